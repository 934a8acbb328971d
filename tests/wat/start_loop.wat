;; Hostile: the start function never returns. Must be stopped by the budget at instantiation.
(module
  (memory (export "memory") 1)
  (func $start (loop $forever (br $forever)))
  (start $start)
  (func (export "edgehost_fetch") (result i32) (i32.const 0)))
