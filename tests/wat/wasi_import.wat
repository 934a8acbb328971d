;; Hostile: imports WASI and an unknown edgehost function. Must be refused at ship.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "edgehost_v1" "open_socket" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "edgehost_fetch") (result i32) (i32.const 0)))
