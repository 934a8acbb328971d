;; Hostile when told to be: answers every request (whatever its method) with the response whose
;; ABI v1 encoding is the lower-case hex text of its env var RESPONSE (at most 4096 hex digits,
;; the manifest's limit, so 2048 bytes). A test chooses any status, header and body this way,
;; with one module; see tests/isolation/scripted.py.
(module
  (import "edgehost_v1" "env_get" (func $env_get (param i32 i32) (result i32)))
  (import "edgehost_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edgehost_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "RESPONSE")
  (global $hex i32 (i32.const 1024))      ;; the env var's hex text
  (global $out i32 (i32.const 8192))      ;; the decoded response

  ;; one hex digit: '0'-'9' -> 0-9, 'a'-'f' -> 10-15
  (func $nibble (param $c i32) (result i32)
    (if (result i32) (i32.le_u (local.get $c) (i32.const 57))
      (then (i32.sub (local.get $c) (i32.const 48)))
      (else (i32.sub (local.get $c) (i32.const 87)))))

  (func (export "edgehost_fetch") (result i32)
    (local $n i32) (local $i i32)
    (local.set $n (call $env_get (i32.const 0) (i32.const 8)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then unreachable))
    (drop (call $result_read (global.get $hex) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8
          (i32.add (global.get $out) (i32.shr_u (local.get $i) (i32.const 1)))
          (i32.or
            (i32.shl (call $nibble (i32.load8_u (i32.add (global.get $hex) (local.get $i))))
                     (i32.const 4))
            (call $nibble (i32.load8_u (i32.add (global.get $hex)
                                                (i32.add (local.get $i) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (drop (call $output_write (global.get $out) (i32.shr_u (local.get $n) (i32.const 1))))
    (i32.const 0)))
