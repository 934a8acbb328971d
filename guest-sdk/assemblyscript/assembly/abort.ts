// Replacements for AssemblyScript's host-provided builtins `abort`, `trace` and `seed`,
// which the standard library would otherwise import from module "env". The build helper
// (bin/edgehost-asc.js) points the compiler at them with
//
//   --use abort=edgehost_abort --use trace=edgehost_trace --use seed=edgehost_seed
//
// so a guest built with it imports nothing but "edgehost_v1" functions. They are `@global`
// so that `--use` can find them by their bare name.

import { set_error_message, log, random_fill, LOG_DEBUG } from "./abi";
import { ByteBuffer, Utf8, utf8Ptr, utf8Len } from "./bytes";

let aborting = false;

/**
 * AssemblyScript's `abort` (failed `assert`, `throw`, out-of-range index, ...): hands
 * "message at file:line:col" to the host with `set_error_message`, then traps.
 * The host reports the invocation as failed (HTTP 500) and logs the message.
 * With the alias in place, user code can also call `abort("message")` directly.
 */
// @ts-ignore: decorator
@global
export function edgehost_abort(
  message: string | null = null,
  fileName: string | null = null,
  lineNumber: u32 = 0,
  columnNumber: u32 = 0
): void {
  // Formatting allocates; if that itself aborts, trap without a message instead of looping.
  if (!aborting) {
    aborting = true;
    let text = format(message, fileName, lineNumber, columnNumber);
    set_error_message(<i32>text.dataStart, text.length);
  }
  unreachable();
}

/**
 * Fails the invocation with `message` (UTF-8, e.g. `lit("malformed input")`): hands it to the
 * host with `set_error_message` and traps, as `abort` does, without formatting anything. The
 * SDK's own checks use it, so a module that never calls `abort` carries no abort handler.
 */
export function fail(message: Utf8): void {
  set_error_message(<i32>utf8Ptr(message), utf8Len(message));
  unreachable();
}

/** "message at file:line:col" as UTF-8. */
function format(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): ByteBuffer {
  // Set up by hand: asc cannot compile the constructor `new ByteBuffer()` from here, because
  // it compiles this handler while compiling the allocations that may abort.
  let text = changetype<ByteBuffer>(__new(offsetof<ByteBuffer>(), idof<ByteBuffer>()));
  text.buffer = changetype<ArrayBuffer>(__new(64, idof<ArrayBuffer>()));
  text.length = 0;
  text.str(message !== null ? message : "abort");
  if (fileName !== null) {
    text.str(" at ").str(fileName).byte(0x3a).uint(lineNumber).byte(0x3a).uint(columnNumber);
  }
  return text;
}

/** AssemblyScript's `trace(message, n, a0..a4)`: written to the function's log at debug level. */
// @ts-ignore: decorator
@global
export function edgehost_trace(
  message: string,
  n: i32 = 0,
  a0: f64 = 0,
  a1: f64 = 0,
  a2: f64 = 0,
  a3: f64 = 0,
  a4: f64 = 0
): void {
  let text = message;
  if (n > 0) text += " " + a0.toString();
  if (n > 1) text += ", " + a1.toString();
  if (n > 2) text += ", " + a2.toString();
  if (n > 3) text += ", " + a3.toString();
  if (n > 4) text += ", " + a4.toString();
  let bytes = new ByteBuffer().str(text);
  log(LOG_DEBUG, <i32>bytes.dataStart, bytes.length);
}

/** Seed for `Math.random()`: 8 bytes from the host's CSPRNG, read as an f64 bit pattern. */
// @ts-ignore: decorator
@global
export function edgehost_seed(): f64 {
  let buf = memory.data(8);
  random_fill(<i32>buf, 8);
  return reinterpret<f64>(load<u64>(buf));
}
