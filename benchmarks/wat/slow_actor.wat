;; Owner of actor type "Slow", for bench_tenants.py's mailbox phase: one call holds the actor
;; while many others queue in its mailbox. Methods (args are a JSON array):
;;   hold [ms]  busy for ms milliseconds (by clock_now_ms), then returns 0
;;   ping       returns 0 at once
;; An unknown method fails with "unknown method". Its fetch answers 200 "slow".
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "edgehost_v1" "set_error_message" (func $set_error (param i32 i32) (result i32)))
  (import "edgehost_v1" "clock_now_ms" (func $now (result i64)))
  (@custom "edgehost.actors"
    "{\"version\":1,\"classes\":[{\"name\":\"Slow\",\"methods\":[\"hold\",\"ping\"]}]}")
  (memory (export "memory") 1)
  (data (i32.const 16) "hold")
  (data (i32.const 24) "ping")
  (data (i32.const 32) "0")
  (data (i32.const 40) "unknown method")
  ;; status 200, no headers, body "slow"
  (data (i32.const 64) "\c8\00\00\00" "\00\00\00\00" "\04\00\00\00" "slow")
  (global $input i32 (i32.const 1024))  ;; the call's input: [u32 len][method][u32 len][args]

  ;; the 4-byte method at $m (length $ml) equals the name at $name
  (func $is (param $m i32) (param $ml i32) (param $name i32) (result i32)
    (i32.and (i32.eq (local.get $ml) (i32.const 4))
             (i32.eq (i32.load (local.get $m)) (i32.load (local.get $name)))))

  ;; the decimal digits in [p, p+len) as a number (other bytes skipped)
  (func $parse (param $p i32) (param $len i32) (result i64)
    (local $v i64) (local $c i32)
    (block $done
      (loop $digits
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (if (i32.lt_u (local.get $c) (i32.const 10))
          (then (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10))
                                       (i64.extend_i32_u (local.get $c))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $digits)))
    (local.get $v))

  (func (export "edgehost_fetch") (result i32)
    (drop (call $output_write (i32.const 64) (i32.const 16)))
    (i32.const 0))

  (func (export "edgehost_actor_init") (result i32)
    (i32.const 0))

  (func (export "edgehost_actor_call") (result i32)
    (local $m i32) (local $ml i32) (local $a i32) (local $al i32) (local $until i64)
    (drop (call $input_read (global.get $input) (call $input_len)))
    (local.set $ml (i32.load (global.get $input)))
    (local.set $m (i32.add (global.get $input) (i32.const 4)))
    (local.set $al (i32.load (i32.add (local.get $m) (local.get $ml))))
    (local.set $a (i32.add (i32.add (local.get $m) (local.get $ml)) (i32.const 4)))
    (if (call $is (local.get $m) (local.get $ml) (i32.const 16))  ;; hold
      (then
        (local.set $until (i64.add (call $now) (call $parse (local.get $a) (local.get $al))))
        (loop $busy (br_if $busy (i64.lt_u (call $now) (local.get $until))))
        (drop (call $output_write (i32.const 32) (i32.const 1)))
        (return (i32.const 0))))
    (if (call $is (local.get $m) (local.get $ml) (i32.const 24))  ;; ping
      (then
        (drop (call $output_write (i32.const 32) (i32.const 1)))
        (return (i32.const 0))))
    (drop (call $set_error (i32.const 40) (i32.const 14)))
    (i32.const 1)))
