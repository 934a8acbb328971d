// Path patterns for handlers (AssemblyScript has no RegExp):
//
//   let m = match("/accounts/:id/deposit", req.path);
//   if (m !== null && req.method == "POST") return deposit(m.get("id"));
//
// A pattern is a path of literal segments and `:name` segments. A `:name` segment matches one
// non-empty path segment, percent-decoded ("a%20b" gives "a b"). Everything else must match
// exactly: no trailing-slash folding, no wildcards.

import { fromUtf8 } from "./util";

/** The `:name` segments a path matched, by name. */
export class RouteParams {
  private names: string[] = [];
  private values: string[] = [];

  /** The value of parameter `name` ("" if the pattern has no such parameter). */
  get(name: string): string {
    let names = this.names;
    for (let i = 0, n = names.length; i < n; i++) {
      if (unchecked(names[i]) == name) return unchecked(this.values[i]);
    }
    return "";
  }

  /** @hidden */
  add(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }
}

/** Matches `path` against `pattern`; the parameters if it matches, else null. */
export function match(pattern: string, path: string): RouteParams | null {
  let params = new RouteParams();
  let pp = 0; // position in pattern
  let sp = 0; // position in path
  let plen = pattern.length;
  let slen = path.length;
  while (pp < plen || sp < slen) {
    if (pp >= plen || sp >= slen) return null;
    // Both are at the start of a segment (or at a "/").
    if (pattern.charCodeAt(pp) == 0x2f) {
      if (path.charCodeAt(sp) != 0x2f) return null;
      pp++;
      sp++;
      continue;
    }
    let pe = segmentEnd(pattern, pp);
    let se = segmentEnd(path, sp);
    if (pattern.charCodeAt(pp) == 0x3a) { // ":name"
      if (se == sp) return null;
      params.add(pattern.substring(pp + 1, pe), percentDecode(path, sp, se));
    } else {
      if (pe - pp != se - sp) return null;
      if (memory.compare(
        changetype<usize>(pattern) + (<usize>pp << 1), changetype<usize>(path) + (<usize>sp << 1), <usize>(pe - pp) << 1
      ) != 0) return null;
    }
    pp = pe;
    sp = se;
  }
  return params;
}

function segmentEnd(s: string, i: i32): i32 {
  let j = s.indexOf("/", i);
  return j < 0 ? s.length : j;
}

function hexDigit(c: i32): i32 {
  if (<u32>(c - 0x30) < 10) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** s[start, end) with %XX escapes decoded as UTF-8; a malformed escape is kept as is. */
function percentDecode(s: string, start: i32, end: i32): string {
  let pct = s.indexOf("%", start);
  if (pct < 0 || pct >= end) return s.substring(start, end);
  // The host passes the path still percent-encoded, hence ASCII; anything else is kept as is.
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) >= 0x80) return s.substring(start, end);
  }
  let buf = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x25 && i + 2 < end) {
      let hi = hexDigit(s.charCodeAt(i + 1));
      let lo = hexDigit(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        c = (hi << 4) | lo;
        i += 2;
      }
    }
    unchecked(buf[n++] = <u8>c);
  }
  return fromUtf8(buf.dataStart, <usize>n);
}
