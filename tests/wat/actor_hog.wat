;; Owner of actor type "Hog": a tenant that stores as much as it can. Args are JSON arrays of
;; non-negative integers (or, for `list`, one JSON object).
;;   fill [count, value_size, key_size, first]
;;                     in ONE turn, puts `count` keys of `key_size` bytes ('k'... then the
;;                     7-digit index, from `first`) with a JSON string value of `value_size`
;;                     bytes; returns count. On the first failed put it fails the method
;;                     (ActorMethodError) with "put <index> failed (status <s>): <host's detail>"
;;   list [{options}]  storage_list with these options; returns how many entries came back
;;   delete_all        storage_delete_all; returns 0
;;   grow [value_size] keeps a counter in memory (a cached field, read from storage key "n" at
;;                     init): counter += 1, puts "n" = counter and a pad value of value_size
;;                     bytes under "p<counter>"; returns the counter
;;   n                 returns the in-memory counter (what this activation believes is stored)
;;   stored_n          returns storage key "n" (what is stored)
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "set_error_message" (func $set_error (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_get" (func $storage_get (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (import "edgehost_v1" "storage_list" (func $storage_list (param i32 i32) (result i32)))
  (import "edgehost_v1" "storage_delete_all" (func $storage_delete_all (result i32)))
  (@custom "edgehost.actors"
    "{\"version\":1,\"classes\":[{\"name\":\"Hog\",\"methods\":[\"delete_all\",\"fill\",\"grow\",\"list\",\"n\",\"stored_n\"]}]}")
  (memory (export "memory") 5)
  (data (i32.const 16) "fill")
  (data (i32.const 24) "list")
  (data (i32.const 32) "delete_all")
  (data (i32.const 48) "grow")
  (data (i32.const 56) "n")
  (data (i32.const 64) "stored_n")
  (data (i32.const 80) "put ")
  (data (i32.const 88) " failed (status -")
  (data (i32.const 112) "): ")
  (data (i32.const 120) "list failed: ")
  (data (i32.const 136) "unknown method")
  (data (i32.const 160) "\c8\00\00\00\00\00\00\00\03\00\00\00hog")
  (global $input i32 (i32.const 4096))      ;; input copied here (up to 60 KiB)
  (global $key i32 (i32.const 65536))       ;; key buffer (up to 4 KiB)
  (global $msg i32 (i32.const 73728))       ;; error messages and result slot reads (8 KiB)
  (global $value i32 (i32.const 131072))    ;; value buffer (up to 192 KiB)
  (global $pos (mut i32) (i32.const 0))     ;; argument parser position
  (global $counter (mut i64) (i64.const 0)) ;; the "cached field" of grow / n

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

  ;; the next decimal number at or after $pos (skipping anything else); advances $pos
  (func $next_number (result i32)
    (local $v i32) (local $c i32)
    (loop $skip
      (local.set $c (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)))
      (if (i32.ge_u (local.get $c) (i32.const 10))
        (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (br $skip))))
    (loop $digits
      (local.set $c (i32.sub (i32.load8_u (global.get $pos)) (i32.const 48)))
      (if (i32.lt_u (local.get $c) (i32.const 10))
        (then
          (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $c)))
          (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
          (br $digits))))
    (local.get $v))

  ;; decimal of v at dst, zero-padded to at least `width` digits; returns its length
  (func $format (param $v i64) (param $dst i32) (param $width i32) (result i32)
    (local $n i32) (local $i i32) (local $tmp i32)
    (local.set $tmp (i32.const 3072))
    (loop $digits
      (i32.store8 (i32.add (local.get $tmp) (local.get $n))
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i32.or (i64.ne (local.get $v) (i64.const 0))
                             (i32.lt_u (local.get $n) (local.get $width)))))
    (loop $reverse
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
        (i32.load8_u (i32.add (local.get $tmp) (i32.sub (i32.sub (local.get $n) (local.get $i))
                                                        (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $reverse (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $n))

  (func $out_number (param $v i64)
    (drop (call $output_write (i32.const 2048)
                              (call $format (local.get $v) (i32.const 2048) (i32.const 1)))))

  ;; a JSON string of exactly `size` bytes (size >= 2) in the value buffer
  (func $make_value (param $size i32)
    (memory.fill (global.get $value) (i32.const 120) (local.get $size))  ;; x
    (i32.store8 (global.get $value) (i32.const 34))
    (i32.store8 (i32.sub (i32.add (global.get $value) (local.get $size)) (i32.const 1))
                (i32.const 34)))

  ;; fail the method with "put <index> failed (status -<s>): <detail from the result slot>"
  (func $put_failed (param $index i64) (param $status i32) (result i32)
    (local $len i32)
    (i32.store (global.get $msg) (i32.load (i32.const 80)))
    (local.set $len (i32.add (i32.const 4) (call $format (local.get $index)
      (i32.add (global.get $msg) (i32.const 4)) (i32.const 1))))
    (memory.copy (i32.add (global.get $msg) (local.get $len)) (i32.const 88) (i32.const 17))
    (local.set $len (i32.add (local.get $len) (i32.const 17)))
    (local.set $len (i32.add (local.get $len) (call $format
      (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $status)))
      (i32.add (global.get $msg) (local.get $len)) (i32.const 1))))
    (memory.copy (i32.add (global.get $msg) (local.get $len)) (i32.const 112) (i32.const 3))
    (local.set $len (i32.add (local.get $len) (i32.const 3)))
    (local.set $len (i32.add (local.get $len) (call $result_read
      (i32.add (global.get $msg) (local.get $len)) (i32.const 4096))))
    (drop (call $set_error (global.get $msg) (local.get $len)))
    (i32.const 1))

  (func $stored_n (result i64)
    (local $len i32) (local $v i64) (local $c i32) (local $p i32)
    (local.set $len (call $storage_get (i32.const 56) (i32.const 1)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i64.const 0))))
    (drop (call $result_read (global.get $msg) (local.get $len)))
    (local.set $p (global.get $msg))
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
    (drop (call $output_write (i32.const 160) (i32.const 15)))
    (i32.const 0))

  (func (export "edgehost_actor_init") (result i32)
    (global.set $counter (call $stored_n))
    (i32.const 0))

  (func (export "edgehost_actor_call") (result i32)
    (local $m i32) (local $ml i32) (local $a i32) (local $al i32) (local $status i32)
    (local $count i32) (local $size i32) (local $ksize i32) (local $first i32) (local $i i32)
    (local $len i32)
    (drop (call $input_read (global.get $input) (call $input_len)))
    (local.set $ml (i32.load (global.get $input)))
    (local.set $m (i32.add (global.get $input) (i32.const 4)))
    (local.set $al (i32.load (i32.add (local.get $m) (local.get $ml))))
    (local.set $a (i32.add (i32.add (local.get $m) (local.get $ml)) (i32.const 4)))
    (global.set $pos (local.get $a))

    (if (call $eq (local.get $m) (local.get $ml) (i32.const 16) (i32.const 4)) ;; fill
      (then
        (local.set $count (call $next_number))
        (local.set $size (call $next_number))
        (local.set $ksize (call $next_number))
        (local.set $first (call $next_number))
        (call $make_value (local.get $size))
        (memory.fill (global.get $key) (i32.const 107) (local.get $ksize))  ;; k
        (block $done
          (loop $puts
            (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
            (drop (call $format (i64.extend_i32_u (i32.add (local.get $first) (local.get $i)))
              (i32.sub (i32.add (global.get $key) (local.get $ksize)) (i32.const 7))
              (i32.const 7)))
            (local.set $status (call $storage_put (global.get $key) (local.get $ksize)
                                                  (global.get $value) (local.get $size)))
            (if (i32.lt_s (local.get $status) (i32.const 0))
              (then (return (call $put_failed
                (i64.extend_i32_u (i32.add (local.get $first) (local.get $i)))
                (local.get $status)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $puts)))
        (call $out_number (i64.extend_i32_u (local.get $count)))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 24) (i32.const 4)) ;; list
      (then
        ;; the options are the argument array without its brackets
        (local.set $status (call $storage_list (i32.add (local.get $a) (i32.const 1))
                                               (i32.sub (local.get $al) (i32.const 2))))
        (if (i32.lt_s (local.get $status) (i32.const 0))
          (then
            (memory.copy (global.get $msg) (i32.const 120) (i32.const 13))
            (local.set $len (call $result_read (i32.add (global.get $msg) (i32.const 13))
                                               (i32.const 4096)))
            (drop (call $set_error (global.get $msg) (i32.add (local.get $len) (i32.const 13))))
            (return (i32.const 1))))
        (drop (call $result_read (global.get $msg) (i32.const 4)))
        (call $out_number (i64.extend_i32_u (i32.load (global.get $msg))))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 32) (i32.const 10)) ;; delete_all
      (then (drop (call $storage_delete_all))
            (call $out_number (i64.const 0))
            (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 48) (i32.const 4)) ;; grow
      (then
        (local.set $size (call $next_number))
        (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
        (local.set $len (call $format (global.get $counter) (i32.const 2048) (i32.const 1)))
        (local.set $status (call $storage_put (i32.const 56) (i32.const 1)
                                              (i32.const 2048) (local.get $len)))
        (if (i32.lt_s (local.get $status) (i32.const 0))
          (then (return (call $put_failed (global.get $counter) (local.get $status)))))
        (i32.store8 (global.get $key) (i32.const 112))  ;; p
        (local.set $len (call $format (global.get $counter)
                                      (i32.add (global.get $key) (i32.const 1)) (i32.const 7)))
        (call $make_value (local.get $size))
        (local.set $status (call $storage_put (global.get $key) (i32.add (local.get $len)
                                              (i32.const 1)) (global.get $value) (local.get $size)))
        (if (i32.lt_s (local.get $status) (i32.const 0))
          (then (return (call $put_failed (global.get $counter) (local.get $status)))))
        (call $out_number (global.get $counter))
        (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 56) (i32.const 1)) ;; n
      (then (call $out_number (global.get $counter))
            (return (i32.const 0))))
    (if (call $eq (local.get $m) (local.get $ml) (i32.const 64) (i32.const 8)) ;; stored_n
      (then (call $out_number (call $stored_n))
            (return (i32.const 0))))
    (drop (call $set_error (i32.const 136) (i32.const 14)))
    (i32.const 1)))
