// Small helpers shared by the SDK modules.

/** UTF-8 bytes of `s`. Lone UTF-16 surrogates become U+FFFD, so the result is always valid UTF-8. */
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

/** Decodes `len` UTF-8 bytes at `ptr` into an AssemblyScript string. */
export function fromUtf8(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

/**
 * ASCII-only lower-casing, for header names (HTTP tokens are ASCII). String#toLowerCase
 * would pull ~10 KB of Unicode case tables into the module.
 */
export function asciiLower(s: string): string {
  let n = s.length;
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
    i++;
  }
  if (i == n) return s; // already lower-case: no copy
  let out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  let src = changetype<usize>(s);
  let dst = changetype<usize>(out);
  memory.copy(dst, src, <usize>i << 1);
  for (; i < n; i++) {
    let c = load<u16>(src + (<usize>i << 1));
    store<u16>(dst + (<usize>i << 1), c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return out;
}

/**
 * Decimal text of `n`. Used for the SDK's own messages instead of i32#toString, whose
 * any-radix implementation brings ~2 KB of digit tables into every module.
 */
export function decimal(n: i64): string {
  return n < 0 ? "-" + decimalU(<u64>(-n)) : decimalU(<u64>n);
}

/** Decimal text of the unsigned `v`. */
export function decimalU(v: u64): string {
  let buf = memory.data(20);
  let p = 20;
  do {
    store<u8>(buf + <usize>(--p), <u8>(0x30 + v % 10));
    v /= 10;
  } while (v != 0);
  return String.UTF8.decodeUnsafe(buf + <usize>p, <usize>(20 - p));
}
