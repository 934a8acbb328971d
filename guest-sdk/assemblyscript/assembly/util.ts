// Small helpers shared by the SDK modules.

import { ByteBuffer } from "./bytes";

/**
 * Decimal text of `n`. Used for the SDK's own messages instead of i64#toString, whose
 * any-radix implementation brings ~2 KB of digit tables into every module.
 */
export function decimal(n: i64): string {
  return new ByteBuffer(24).int(n).toString();
}

/**
 * True if `a` and `b` are equal ignoring ASCII case (HTTP header names are ASCII).
 * String#toLowerCase would pull ~10 KB of Unicode case tables into the module.
 */
export function equalsIgnoreCase(a: string, b: string): bool {
  let n = a.length;
  if (b.length != n) return false;
  let pa = changetype<usize>(a);
  let pb = changetype<usize>(b);
  for (let end = pa + (<usize>n << 1); pa < end; pa += 2, pb += 2) {
    let x = <u32>load<u16>(pa);
    let y = <u32>load<u16>(pb);
    if (x != y && ((x | 0x20) != (y | 0x20) || <u32>((x | 0x20) - 0x61) > 25)) return false;
  }
  return true;
}
