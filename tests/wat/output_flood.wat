;; Hostile: writes 64 KiB chunks of output forever; the host must cap it and answer 500.
(module
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "edgehost_fetch") (result i32)
    (loop $flood
      (br_if $flood (i32.ge_s (call $output_write (i32.const 0) (i32.const 65536)) (i32.const 0))))
    (i32.const 0)))
