;; Answers 200 with the raw encoded request as its body, so tests can check the encoding.
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "edgehost_fetch") (result i32)
    (local $len i32) (local $pages i32)
    (local.set $len (call $input_len))
    ;; grow so that 12 + len bytes fit
    (local.set $pages (i32.sub (i32.div_u (i32.add (local.get $len) (i32.const 65547))
                                          (i32.const 65536))
                               (memory.size)))
    (if (i32.gt_s (local.get $pages) (i32.const 0))
      (then (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1)) (then unreachable))))
    (i32.store (i32.const 0) (i32.const 200))          ;; status
    (i32.store (i32.const 4) (i32.const 0))            ;; no headers
    (i32.store (i32.const 8) (local.get $len))         ;; body length
    (drop (call $input_read (i32.const 12) (local.get $len)))
    (drop (call $output_write (i32.const 0) (i32.add (local.get $len) (i32.const 12))))
    (i32.const 0)))
