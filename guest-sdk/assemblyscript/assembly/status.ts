// Status codes and the result slot (guest-sdk/ABI.md, "Conventions").
//
// A producing import returns a length n >= 0 and parks the value in the result slot, which
// `resultText(n)` reads. After a negative status the slot holds the host's explanation,
// which `lastError()` reads (its length is not returned, so it is read with a growing buffer).

import {
  result_read, NOT_FOUND, OUT_OF_BOUNDS, TOO_LARGE, INVALID_ARGUMENT, LIMIT_EXCEEDED,
  NOT_PERMITTED, ACTOR_ERROR, CODEC_ERROR, INTERNAL,
} from "./abi";
import { fromUtf8, decimal } from "./util";

/** The ABI name of a status code: "NOT_FOUND", "CODEC_ERROR", ... */
export function statusName(rc: i32): string {
  if (rc == NOT_FOUND) return "NOT_FOUND";
  if (rc == OUT_OF_BOUNDS) return "OUT_OF_BOUNDS";
  if (rc == TOO_LARGE) return "TOO_LARGE";
  if (rc == INVALID_ARGUMENT) return "INVALID_ARGUMENT";
  if (rc == LIMIT_EXCEEDED) return "LIMIT_EXCEEDED";
  if (rc == NOT_PERMITTED) return "NOT_PERMITTED";
  if (rc == ACTOR_ERROR) return "ACTOR_ERROR";
  if (rc == CODEC_ERROR) return "CODEC_ERROR";
  if (rc == INTERNAL) return "INTERNAL";
  return "status " + decimal(rc);
}

/** The `n`-byte value parked in the result slot, decoded as UTF-8 ("" if it cannot be read). */
export function resultText(n: i32): string {
  if (n <= 0) return "";
  let buf = new ArrayBuffer(n);
  let got = result_read(changetype<i32>(buf), n);
  if (got <= 0) return "";
  return fromUtf8(changetype<usize>(buf), <usize>min(got, n));
}

/** The host's message in the result slot after a negative status ("" if there is none). */
export function lastError(): string {
  let cap = 256;
  while (true) {
    let buf = new ArrayBuffer(cap);
    let got = result_read(changetype<i32>(buf), cap);
    if (got <= 0) return "";
    if (got < cap || cap >= 1 << 20) return fromUtf8(changetype<usize>(buf), <usize>min(got, cap));
    cap <<= 2; // the message filled the buffer: it may be longer
  }
}
