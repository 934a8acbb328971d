;; Owner of actor type "Nest": hands the host JSON nested as deep as it is asked to.
;; Methods (args are a JSON array holding one number n):
;;   nest   returns n arrays inside one another: [[[...]]]
;;   store  puts that n-deep array under the key "v"; returns the status storage_put gave
;;          (0, or a negative status such as -8 for CODEC_ERROR)
;;   load   returns the value stored under "v", or null
;; Its fetch answers 200 "nest".
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "set_error_message" (func $set_error (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_get" (func $storage_get (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (@custom "edgehost.actors"
    "{\"version\":1,\"classes\":[{\"name\":\"Nest\",\"methods\":[\"load\",\"nest\",\"store\"]}]}")
  (memory (export "memory") 8)
  (data (i32.const 16) "nest")
  (data (i32.const 24) "store")
  (data (i32.const 32) "load")
  (data (i32.const 40) "v")
  (data (i32.const 48) "null")
  (data (i32.const 56) "unknown method")
  (global $input i32 (i32.const 4096))      ;; input copied here (up to 60 KiB)
  (global $number i32 (i32.const 3072))     ;; a formatted status
  (global $scratch i32 (i32.const 262144))  ;; the nested array / the loaded value (256 KiB)

  (func $eq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
    (block $differ
      (loop $cmp
        (if (i32.eqz (local.get $al)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $al (i32.sub (local.get $al) (i32.const 1)))
        (br $cmp)))
    (i32.const 0))

  ;; decimal digits at [p, p+len) -> value (non-digits are skipped)
  (func $parse (param $p i32) (param $len i32) (result i32)
    (local $v i32) (local $c i32)
    (block $done
      (loop $digits
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (if (i32.lt_u (local.get $c) (i32.const 10))
          (then (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10))
                                       (local.get $c)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $digits)))
    (local.get $v))

  ;; n '[' then n ']' at $scratch; returns the length (2n)
  (func $nested (param $n i32) (result i32)
    (memory.fill (global.get $scratch) (i32.const 91) (local.get $n))
    (memory.fill (i32.add (global.get $scratch) (local.get $n)) (i32.const 93) (local.get $n))
    (i32.shl (local.get $n) (i32.const 1)))

  ;; writes "-d" for a negative status d (1 digit), "0" otherwise
  (func $out_status (param $status i32)
    (if (i32.lt_s (local.get $status) (i32.const 0))
      (then
        (i32.store8 (global.get $number) (i32.const 45))
        (i32.store8 (i32.add (global.get $number) (i32.const 1))
                    (i32.sub (i32.const 48) (local.get $status)))
        (drop (call $output_write (global.get $number) (i32.const 2))))
      (else
        (i32.store8 (global.get $number) (i32.const 48))
        (drop (call $output_write (global.get $number) (i32.const 1))))))

  (func (export "edgehost_fetch") (result i32)
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 0))
    (i32.store (i32.const 8) (i32.const 4))
    (drop (call $output_write (i32.const 0) (i32.const 12)))
    (drop (call $output_write (i32.const 16) (i32.const 4)))
    (i32.const 0))

  (func (export "edgehost_actor_init") (result i32)
    (i32.const 0))

  (func (export "edgehost_actor_call") (result i32)
    (local $m i32) (local $ml i32) (local $a i32) (local $al i32) (local $len i32)
    (drop (call $input_read (global.get $input) (call $input_len)))
    (local.set $ml (i32.load (global.get $input)))
    (local.set $m (i32.add (global.get $input) (i32.const 4)))
    (local.set $al (i32.load (i32.add (local.get $m) (local.get $ml))))
    (local.set $a (i32.add (i32.add (local.get $m) (local.get $ml)) (i32.const 4)))

    (if (call $eq (local.get $m) (local.get $ml) (i32.const 16) (i32.const 4)) ;; nest
      (then
        (local.set $len (call $nested (call $parse (local.get $a) (local.get $al))))
        (drop (call $output_write (global.get $scratch) (local.get $len)))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 24) (i32.const 5)) ;; store
      (then
        (local.set $len (call $nested (call $parse (local.get $a) (local.get $al))))
        (call $out_status (call $storage_put (i32.const 40) (i32.const 1)
                                             (global.get $scratch) (local.get $len)))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 32) (i32.const 4)) ;; load
      (then
        (local.set $len (call $storage_get (i32.const 40) (i32.const 1)))
        (if (i32.lt_s (local.get $len) (i32.const 0))
          (then (drop (call $output_write (i32.const 48) (i32.const 4)))
                (return (i32.const 0))))
        (drop (call $result_read (global.get $scratch) (local.get $len)))
        (drop (call $output_write (global.get $scratch) (local.get $len)))
        (return (i32.const 0))))
    (drop (call $set_error (i32.const 56) (i32.const 14)))
    (i32.const 1)))
