;; Hostile: logs 20,000 lines in one request, then answers 200 "ok" as if nothing happened.
(module
  (import "edgehost_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "flooding the log, flooding the log, flooding the log")
  (data (i32.const 128) "\c8\00\00\00\00\00\00\00\02\00\00\00ok")
  (func (export "edgehost_fetch") (result i32)
    (local $i i32)
    (loop $flood
      (drop (call $log (i32.const 1) (i32.const 16) (i32.const 52)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $flood (i32.lt_u (local.get $i) (i32.const 20000))))
    (drop (call $output_write (i32.const 128) (i32.const 14)))
    (i32.const 0)))
