;; Keeps a counter in a mutable global and in linear memory, bumps both per request, and answers
;; with "<global>,<memory>". A fresh instance per request must always answer "1,1".
(module
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (func (export "edgehost_fetch") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1)))
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 0))
    (i32.store (i32.const 8) (i32.const 3))
    (i32.store8 (i32.const 12) (i32.add (i32.const 48) (global.get $count)))
    (i32.store8 (i32.const 13) (i32.const 44))
    (i32.store8 (i32.const 14) (i32.add (i32.const 48) (i32.load (i32.const 1024))))
    (drop (call $output_write (i32.const 0) (i32.const 15)))
    (i32.const 0)))
