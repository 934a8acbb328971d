;; A well-behaved function: always answers 200 "ok" (text/plain) from a pre-encoded response.
(module
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; status 200, 1 header (content-type: text/plain), body "ok"  = 44 bytes
  (data (i32.const 64)
    "\c8\00\00\00" "\01\00\00\00"
    "\0c\00\00\00" "content-type" "\0a\00\00\00" "text/plain"
    "\02\00\00\00" "ok")
  (func (export "edgehost_fetch") (result i32)
    (drop (call $output_write (i32.const 64) (i32.const 44)))
    (i32.const 0)))
