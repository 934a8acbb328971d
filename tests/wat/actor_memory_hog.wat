;; Owner of actor type "Hog", for the activation-memory tests (issue 9, item 4). An activation
;; keeps its instance, and so its linear memory, between calls.
;; Methods:
;;   grow    grows its memory by 64 pages (4 MiB) and writes to every new page, so the memory
;;           is resident; returns the page count
;;   pages   returns the page count
;; Its fetch answers 200 "hog".
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (@custom "edgehost.actors" "{\"version\":1,\"classes\":[{\"name\":\"Hog\",\"methods\":[\"grow\",\"pages\"]}]}")
  (memory (export "memory") 1)
  (data (i32.const 160) "\c8\00\00\00\00\00\00\00\03\00\00\00hog")
  (func (export "edgehost_fetch") (result i32)
    (drop (call $output_write (i32.const 160) (i32.const 15)))
    (i32.const 0))
  (func (export "edgehost_actor_init") (result i32) (i32.const 0))
  (func $out_number (param $v i32)
    ;; up to 5 decimal digits at 1024
    (local $n i32) (local $i i32)
    (local.set $i (i32.const 1028))
    (loop $digits
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $digits (i32.ne (local.get $v) (i32.const 0))))
    (drop (call $output_write (i32.add (local.get $i) (i32.const 1)) (local.get $n))))
  (func (export "edgehost_actor_call") (result i32)
    (local $old i32) (local $p i32)
    (drop (call $input_read (i32.const 2048) (call $input_len)))
    ;; method name starts at 2052; "grow" vs "pages" differ in the first byte
    (if (i32.eq (i32.load8_u (i32.const 2052)) (i32.const 103)) ;; 'g'
      (then
        (local.set $old (memory.grow (i32.const 64)))
        (if (i32.lt_s (local.get $old) (i32.const 0)) (then unreachable))
        (local.set $p (i32.mul (local.get $old) (i32.const 65536)))
        (loop $touch
          (i32.store8 (local.get $p) (i32.const 1))
          (local.set $p (i32.add (local.get $p) (i32.const 4096)))
          (br_if $touch (i32.lt_u (local.get $p) (i32.mul (memory.size) (i32.const 65536)))))))
    (call $out_number (memory.size))
    (i32.const 0)))
