;; The ABI v1 contract: imports every host function with its exact signature (see ../ABI.md).
;; tests/contract/test_abi_contract.py instantiates this against the host's real linker and
;; compares it with ABI.md and the host's import table, so none of the three can drift.
(module
  (import "edgehost_v1" "input_len"         (func (result i32)))
  (import "edgehost_v1" "input_read"        (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write"      (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read"       (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "env_get"           (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "log"               (func (param i32 i32 i32) (result i32)))
  (import "edgehost_v1" "set_error_message" (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "clock_now_ms"      (func (result i64)))
  (import "edgehost_v1" "random_fill"       (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_get"       (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_put"       (func (param i32 i32 i32 i32) (result i32)))
  (import "edgehost_v1" "storage_delete"    (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_list"      (func (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_delete_all"   (func (result i32)))
  (import "edgehost_v1" "storage_txn_begin"    (func (result i32)))
  (import "edgehost_v1" "storage_txn_commit"   (func (result i32)))
  (import "edgehost_v1" "storage_txn_rollback" (func (result i32)))
  (import "edgehost_v1" "actor_call"
    (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "edgehost_fetch") (result i32) (i32.const 0)))
