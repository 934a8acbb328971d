;; A class-free function that makes one actor call described by its request body:
;;     BINDING \n name \n method \n args-json
;; It answers 200 with the call's JSON result; 500 with the error JSON when the call returned
;; ACTOR_ERROR; 400 with the host's message for any other negative status (e.g. CODEC_ERROR).
(module
  (import "edgehost_v1" "input_len" (func $input_len (result i32)))
  (import "edgehost_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "actor_call"
    (func $actor_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (global $input i32 (i32.const 4096))
  (global $result i32 (i32.const 131072))   ;; 64 KiB result buffer at 128 KiB

  ;; skip one length-prefixed field at $p; returns the position after it
  (func $skip (param $p i32) (result i32)
    (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))

  ;; index of the first \n in [p, end), or end
  (func $line_end (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.eq (i32.load8_u (local.get $p)) (i32.const 10)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (local.get $p))

  ;; write status, no headers, then body [ptr, ptr+len)
  (func $respond (param $status i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $status))
    (i32.store (i32.const 4) (i32.const 0))
    (i32.store (i32.const 8) (local.get $len))
    (drop (call $output_write (i32.const 0) (i32.const 12)))
    (drop (call $output_write (local.get $ptr) (local.get $len))))

  (func (export "edgehost_fetch") (result i32)
    (local $p i32) (local $end i32) (local $b i32) (local $bl i32) (local $n i32) (local $nl i32)
    (local $m i32) (local $ml i32) (local $status i32) (local $len i32)
    (drop (call $input_read (global.get $input) (call $input_len)))
    ;; skip method, url, headers -> body
    (local.set $p (call $skip (call $skip (global.get $input))))
    (local.set $n (i32.load (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (block $headers_done
      (loop $headers
        (br_if $headers_done (i32.eqz (local.get $n)))
        (local.set $p (call $skip (call $skip (local.get $p))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $headers)))
    (local.set $end (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    ;; binding
    (local.set $b (local.get $p))
    (local.set $p (call $line_end (local.get $p) (local.get $end)))
    (local.set $bl (i32.sub (local.get $p) (local.get $b)))
    ;; name
    (local.set $n (i32.add (local.get $p) (i32.const 1)))
    (local.set $p (call $line_end (local.get $n) (local.get $end)))
    (local.set $nl (i32.sub (local.get $p) (local.get $n)))
    ;; method
    (local.set $m (i32.add (local.get $p) (i32.const 1)))
    (local.set $p (call $line_end (local.get $m) (local.get $end)))
    (local.set $ml (i32.sub (local.get $p) (local.get $m)))
    ;; args: the rest
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (local.set $status (call $actor_call (local.get $b) (local.get $bl) (local.get $n)
      (local.get $nl) (local.get $m) (local.get $ml) (local.get $p)
      (i32.sub (local.get $end) (local.get $p))))
    (local.set $len (call $result_read (global.get $result) (i32.const 65536)))
    (if (i32.ge_s (local.get $status) (i32.const 0))
      (then (call $respond (i32.const 200) (global.get $result) (local.get $len)))
      (else
        (if (i32.eq (local.get $status) (i32.const -7))
          (then (call $respond (i32.const 500) (global.get $result) (local.get $len)))
          (else (call $respond (i32.const 400) (global.get $result) (local.get $len))))))
    (i32.const 0)))
