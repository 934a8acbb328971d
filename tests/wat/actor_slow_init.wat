;; Owner of actor type "SlowInit": its init hook (the constructor) never finishes, so every
;; activation runs out of a budget while initialising. Its one method, `get`, would answer 1.
(module
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (@custom "edgehost.actors" "{\"version\":1,\"classes\":[{\"name\":\"SlowInit\",\"methods\":[\"get\"]}]}")
  (memory (export "memory") 1)
  (data (i32.const 16) "1")
  (func (export "edgehost_fetch") (result i32) (i32.const 0))
  (func (export "edgehost_actor_init") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
  (func (export "edgehost_actor_call") (result i32)
    (drop (call $output_write (i32.const 16) (i32.const 1)))
    (i32.const 0)))
