// Status codes and the result slot (guest-sdk/ABI.md, "Conventions").
//
// A producing import returns a length n >= 0 and parks the value in the result slot, which
// `resultText(n)` reads. After a negative status the slot holds the host's explanation,
// which `lastError()` reads (its length is not returned, so it is read with a growing buffer).

import { result_read } from "./abi";
import { ByteBuffer } from "./bytes";

/** The `n`-byte value parked in the result slot, as bytes (empty if it cannot be read). */
export function resultBytes(n: i32): ByteBuffer {
  let buf = new ByteBuffer(max(n, 0));
  if (n > 0) {
    let got = result_read(<i32>buf.dataStart, n);
    if (got > 0) buf.length = min(got, n);
  }
  return buf;
}

/** The `n`-byte value parked in the result slot, decoded as UTF-8 ("" if it cannot be read). */
export function resultText(n: i32): string {
  return resultBytes(n).toString();
}

/** The host's message in the result slot after a negative status ("" if there is none). */
export function lastError(): string {
  return errorBytes().toString();
}

/** The host's message in the result slot after a negative status, as bytes (empty if there is none). */
export function errorBytes(): ByteBuffer {
  let cap = 256;
  while (true) {
    let buf = new ByteBuffer(cap);
    let got = result_read(<i32>buf.dataStart, cap);
    if (got <= 0) return buf;
    if (got < cap || cap >= 1 << 20) {
      buf.length = min(got, cap);
      return buf;
    }
    cap <<= 2; // the message filled the buffer: it may be longer
  }
}
