// The rest of the host environment: configured variables, the clock and randomness.

import { env_get, result_read, clock_now_ms, random_fill } from "./abi";
import { ByteBuffer, readUtf8, utf8 } from "./bytes";

/** The function's configured variable `name` (from `[env_vars]`), or null if it is unset. */
export function envVar(name: string): string | null {
  let key = utf8(name);
  let len = env_get(<i32>key.dataStart, key.length);
  if (len < 0) return null;
  let buf = new ByteBuffer(len);
  let got = result_read(<i32>buf.dataStart, len);
  if (got < 0) return null;
  return readUtf8(buf.dataStart, got);
}

/** Wall-clock time in milliseconds since the Unix epoch (use this instead of Date.now()). */
export function nowMs(): i64 {
  return clock_now_ms();
}

/** `n` bytes from the host's CSPRNG (fetched in chunks of at most 64 KiB). */
export function randomBytes(n: i32): Uint8Array {
  let out = new Uint8Array(n);
  let p = out.dataStart;
  let left = n;
  while (left > 0) {
    let chunk = min(left, 65536);
    if (random_fill(<i32>p, chunk) < 0) abort("random_fill failed");
    p += <usize>chunk;
    left -= chunk;
  }
  return out;
}
