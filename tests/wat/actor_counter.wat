;; Owner of actor type "Counter", instrumented for tests. Its state is the key "n" (a JSON
;; integer); its init (constructor) adds 1 to the key "inits", so storage counts activations.
;; Methods (args are a JSON array):
;;   incr              n += 1, returns n
;;   get               returns n (0 when unset)
;;   inits             returns how many times this instance was initialised
;;   slow              busy for 100 ms; returns [start_ms, end_ms] (for serial-dispatch tests)
;;   spin              never returns (budget tests)
;;   trap_after_write  puts n = 999, then traps (nothing may be committed)
;;   echo              returns its argument array unchanged
;;   fail              aborts with the message "counter says no" (set_error_message + trap)
;;   probe             hostile: writes keys crafted to escape (NUL, "../", another name's
;;                     key as a suffix, 300 x 0x7f), then lists everything it can see and
;;                     returns how many entries that is
;;   relay             args ["a","b",...]: calls PEER("a").relay(["b",...]); with no names left
;;                     returns "end"; an error from the callee is returned as its JSON object
;;   naprelay          busy for 200 ms, then as relay (two requests can then each hold one
;;                     instance while calling the other's: the cross-request deadlock test)
;; Its fetch answers 200 "counter".
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "set_error_message" (func $set_error (param i32 i32) (result i32)))
  (import "edgehost_v1" "clock_now_ms" (func $now (result i64)))
  (import "edgehost_v1" "storage_get" (func $storage_get (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (import "edgehost_v1" "storage_list" (func $storage_list (param i32 i32) (result i32)))
  (import "edgehost_v1" "actor_call"
    (func $actor_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (@custom "edgehost.actors"
    "{\"version\":1,\"classes\":[{\"name\":\"Counter\",\"methods\":[\"echo\",\"fail\",\"get\",\"incr\",\"inits\",\"naprelay\",\"probe\",\"relay\",\"slow\",\"spin\",\"trap_after_write\"]}]}")
  (memory (export "memory") 4)
  (data (i32.const 16) "incr")
  (data (i32.const 24) "slow")
  (data (i32.const 32) "trap_after_write")
  (data (i32.const 56) "spin")
  (data (i32.const 64) "relay")
  (data (i32.const 72) "get")
  (data (i32.const 80) "n")
  (data (i32.const 88) "inits")
  (data (i32.const 96) "PEER")
  (data (i32.const 104) "[]")
  (data (i32.const 112) "\"end\"")
  (data (i32.const 120) "999")
  (data (i32.const 128) "echo")
  (data (i32.const 136) "unknown method")
  (data (i32.const 184) "fail")
  (data (i32.const 192) "counter says no")
  (data (i32.const 208) "probe")
  (data (i32.const 216) "\00")
  (data (i32.const 220) "../n")
  (data (i32.const 228) "v\00n")
  (data (i32.const 236) "{\22limit\22:1000}")
  (data (i32.const 256) "naprelay")
  (data (i32.const 160) "\c8\00\00\00\00\00\00\00\07\00\00\00counter")
  (global $input i32 (i32.const 4096))      ;; input copied here (up to 60 KiB)
  (global $scratch i32 (i32.const 65536))   ;; output / new args
  (global $result i32 (i32.const 131072))   ;; result slot reads

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

  ;; writes the decimal form of v at dst; returns its length
  (func $format (param $v i64) (param $dst i32) (result i32)
    (local $tmp i32) (local $n i32) (local $i i32)
    (local.set $tmp (i32.const 3072))
    (loop $digits
      (i32.store8 (i32.add (local.get $tmp) (local.get $n))
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (loop $reverse
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
        (i32.load8_u (i32.add (local.get $tmp) (i32.sub (i32.sub (local.get $n) (local.get $i))
                                                        (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $reverse (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $n))

  (func $get_number (param $key i32) (param $klen i32) (result i64)
    (local $len i32)
    (local.set $len (call $storage_get (local.get $key) (local.get $klen)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i64.const 0))))
    (drop (call $result_read (global.get $result) (local.get $len)))
    (call $parse (global.get $result) (local.get $len)))

  (func $put_number (param $key i32) (param $klen i32) (param $v i64)
    (if (i32.lt_s (call $storage_put (local.get $key) (local.get $klen) (i32.const 2048)
                        (call $format (local.get $v) (i32.const 2048))) (i32.const 0))
      (then unreachable)))

  (func $out_number (param $v i64)
    (drop (call $output_write (global.get $scratch)
                              (call $format (local.get $v) (global.get $scratch)))))

  (func (export "edgehost_fetch") (result i32)
    (drop (call $output_write (i32.const 160) (i32.const 19)))
    (i32.const 0))

  (func (export "edgehost_actor_init") (result i32)
    (call $put_number (i32.const 88) (i32.const 5)
      (i64.add (call $get_number (i32.const 88) (i32.const 5)) (i64.const 1)))
    (i32.const 0))

  (func (export "edgehost_actor_call") (result i32)
    (local $m i32) (local $ml i32) (local $a i32) (local $al i32) (local $v i64)
    (local $start i64) (local $q i32) (local $q2 i32) (local $status i32) (local $len i32)
    (drop (call $input_read (global.get $input) (call $input_len)))
    (local.set $ml (i32.load (global.get $input)))
    (local.set $m (i32.add (global.get $input) (i32.const 4)))
    (local.set $al (i32.load (i32.add (local.get $m) (local.get $ml))))
    (local.set $a (i32.add (i32.add (local.get $m) (local.get $ml)) (i32.const 4)))

    (if (call $eq (local.get $m) (local.get $ml) (i32.const 16) (i32.const 4)) ;; incr
      (then
        (local.set $v (i64.add (call $get_number (i32.const 80) (i32.const 1)) (i64.const 1)))
        (call $put_number (i32.const 80) (i32.const 1) (local.get $v))
        (call $out_number (local.get $v))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 72) (i32.const 3)) ;; get
      (then (call $out_number (call $get_number (i32.const 80) (i32.const 1)))
            (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 88) (i32.const 5)) ;; inits
      (then (call $out_number (call $get_number (i32.const 88) (i32.const 5)))
            (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 24) (i32.const 4)) ;; slow
      (then
        (local.set $start (call $now))
        (loop $busy (br_if $busy (i64.lt_u (call $now) (i64.add (local.get $start)
                                                                 (i64.const 100)))))
        (i32.store8 (global.get $scratch) (i32.const 91))  ;; [
        (local.set $len (i32.add (i32.const 1) (call $format (local.get $start)
                                   (i32.add (global.get $scratch) (i32.const 1)))))
        (i32.store8 (i32.add (global.get $scratch) (local.get $len)) (i32.const 44))  ;; ,
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (local.set $len (i32.add (local.get $len) (call $format (call $now)
                                   (i32.add (global.get $scratch) (local.get $len)))))
        (i32.store8 (i32.add (global.get $scratch) (local.get $len)) (i32.const 93))  ;; ]
        (drop (call $output_write (global.get $scratch) (i32.add (local.get $len) (i32.const 1))))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 56) (i32.const 4)) ;; spin
      (then (loop $forever (br $forever))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 32) (i32.const 16)) ;; trap_after_write
      (then
        (drop (call $storage_put (i32.const 80) (i32.const 1) (i32.const 120) (i32.const 3)))
        unreachable))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 128) (i32.const 4)) ;; echo
      (then (drop (call $output_write (local.get $a) (local.get $al)))
            (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 256) (i32.const 8)) ;; naprelay
      (then
        (local.set $start (call $now))
        (loop $nap (br_if $nap (i64.lt_u (call $now) (i64.add (local.get $start)
                                                               (i64.const 200)))))
        (local.set $m (i32.const 64))
        (local.set $ml (i32.const 5))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 64) (i32.const 5)) ;; relay
      (then
        ;; first quoted name in args: [q+1, q2)
        (local.set $q (local.get $a))
        (block $found
          (loop $find
            (if (i32.ge_u (local.get $q) (i32.add (local.get $a) (local.get $al)))
              (then (drop (call $output_write (i32.const 112) (i32.const 5)))
                    (return (i32.const 0))))
            (br_if $found (i32.eq (i32.load8_u (local.get $q)) (i32.const 34)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $find)))
        (local.set $q2 (i32.add (local.get $q) (i32.const 1)))
        (loop $close
          (if (i32.ne (i32.load8_u (local.get $q2)) (i32.const 34))
            (then (local.set $q2 (i32.add (local.get $q2) (i32.const 1))) (br $close))))
        ;; new args: "[" + everything after the comma that follows the name, else "[]"
        (if (i32.eq (i32.load8_u (i32.add (local.get $q2) (i32.const 1))) (i32.const 44))
          (then
            (i32.store8 (global.get $scratch) (i32.const 91))
            (local.set $len (i32.sub (i32.add (local.get $a) (local.get $al))
                                     (i32.add (local.get $q2) (i32.const 2))))
            (memory.copy (i32.add (global.get $scratch) (i32.const 1))
                         (i32.add (local.get $q2) (i32.const 2)) (local.get $len))
            (local.set $len (i32.add (local.get $len) (i32.const 1))))
          (else
            (i32.store16 (global.get $scratch) (i32.load16_u (i32.const 104)))
            (local.set $len (i32.const 2))))
        (local.set $status (call $actor_call (i32.const 96) (i32.const 4)
          (i32.add (local.get $q) (i32.const 1)) (i32.sub (local.get $q2)
                                                          (i32.add (local.get $q) (i32.const 1)))
          (i32.const 64) (i32.const 5) (global.get $scratch) (local.get $len)))
        (local.set $len (call $result_read (global.get $result) (i32.const 65536)))
        (drop (call $output_write (global.get $result) (local.get $len)))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 184) (i32.const 4)) ;; fail
      (then (drop (call $set_error (i32.const 192) (i32.const 15)))
            unreachable))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 208) (i32.const 5)) ;; probe
      (then
        (drop (call $storage_put (i32.const 216) (i32.const 1) (i32.const 120) (i32.const 3)))
        (drop (call $storage_put (i32.const 220) (i32.const 4) (i32.const 120) (i32.const 3)))
        (drop (call $storage_put (i32.const 228) (i32.const 3) (i32.const 120) (i32.const 3)))
        (memory.fill (i32.const 8192) (i32.const 127) (i32.const 300))
        (drop (call $storage_put (i32.const 8192) (i32.const 300) (i32.const 120) (i32.const 3)))
        (drop (call $storage_list (i32.const 236) (i32.const 14)))
        (drop (call $result_read (global.get $result) (i32.const 4)))
        (call $out_number (i64.extend_i32_u (i32.load (global.get $result))))
        (return (i32.const 0))))
    (drop (call $set_error (i32.const 136) (i32.const 14)))
    (i32.const 1)))
