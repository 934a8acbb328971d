;; Hostile: grows memory one page at a time, touching each page, until the host refuses
;; (memory.grow returns -1); then it aborts with a message and traps.
(module
  (import "edgehost_v1" "set_error_message" (func $set_error (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "memory bomb hit the limit")
  (func (export "edgehost_fetch") (result i32)
    (local $old i32)
    (loop $grow
      (local.set $old (memory.grow (i32.const 1)))
      (if (i32.ne (local.get $old) (i32.const -1))
        (then
          (i32.store (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1))
          (br $grow))))
    (drop (call $set_error (i32.const 16) (i32.const 25)))
    unreachable))
