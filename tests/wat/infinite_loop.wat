;; Hostile: spins forever in fetch. Must be stopped by the wall-clock budget (504).
(module
  (memory (export "memory") 1)
  (func (export "edgehost_fetch") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
