// Small helpers shared by the SDK modules.

import { ByteBuffer } from "./bytes";

/**
 * Decimal text of `n`. Used for the SDK's own messages instead of i64#toString, whose
 * any-radix implementation brings ~2 KB of digit tables into every module.
 */
export function decimal(n: i64): string {
  return new ByteBuffer(24).int(n).toString();
}
