// A small JSON reader: enough to read request bodies like {"amount": 100}, actor arguments
// and actor results without a JSON library (json-as costs 15+ KB of wasm).
//
//   let body = JsonValue.parse(req.text());          // null if the text is not valid JSON
//   if (body === null || !body.isObject()) return bad("body must be a JSON object");
//   let amount = body.get("amount");                  // null if the member is missing
//   if (amount === null || !amount.isInteger()) return bad("amount must be an integer");
//   let n = amount.toI64();
//
// `parse` validates the whole text up front (RFC 8259 grammar, nesting depth <= 64), so the
// accessors never fail: they walk the text lazily and skip what they do not need.
// Integers are read exactly as i64; `toF64` is there for other numbers.

// Kinds of JSON value, see JsonValue.kind.
export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** Maximum nesting of arrays/objects `parse` accepts (deeper input is reported as malformed). */
export const JSON_MAX_DEPTH: i32 = 64;

/** One JSON value: a view into the text it was parsed from. */
export class JsonValue {
  private constructor(
    private readonly text: string,
    private readonly start: i32,
    private readonly end: i32,
    /** What kind of value this is (JsonKind). */
    readonly kind: JsonKind
  ) {}

  /** Parses `text` as exactly one JSON value (surrounding whitespace allowed); null if malformed. */
  static parse(text: string): JsonValue | null {
    let i = skipWs(text, 0);
    let end = scanValue(text, i, 0);
    if (end < 0 || skipWs(text, end) != text.length) return null;
    return JsonValue.at(text, i, end);
  }

  private static at(text: string, start: i32, end: i32): JsonValue {
    return new JsonValue(text, start, end, kindOf(text.charCodeAt(start)));
  }

  isNull(): bool { return this.kind == JsonKind.Null; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isString(): bool { return this.kind == JsonKind.String; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  /** The JSON text of this value, as it appears in the input. */
  raw(): string {
    return this.text.substring(this.start, this.end);
  }

  /** True for `true`; false for anything else. */
  toBool(): bool {
    return this.kind == JsonKind.Bool && this.text.charCodeAt(this.start) == 0x74;
  }

  /**
   * True if this is a number written as an integer (no fraction, no exponent) that fits in an
   * i64. `1.0` and `1e2` are not integers here.
   */
  isInteger(): bool {
    if (this.kind != JsonKind.Number) return false;
    return parseInteger(this.text, this.start, this.end, true) != 0 || isZero(this.text, this.start, this.end);
  }

  /** The value of an integer (see isInteger); 0 for anything else. */
  toI64(): i64 {
    if (!this.isInteger()) return 0;
    return parseInteger(this.text, this.start, this.end, false);
  }

  /** The value of a number as f64 (NaN if this is not a number). */
  toF64(): f64 {
    if (this.kind != JsonKind.Number) return NaN;
    return parseFloat(this.raw());
  }

  /** The value of a string, unescaped; "" if this is not a string. */
  toStr(): string {
    if (this.kind != JsonKind.String) return "";
    return unescape(this.text, this.start + 1, this.end - 1);
  }

  /** Number of elements (array) or members (object); 0 otherwise. */
  get length(): i32 {
    if (this.kind != JsonKind.Array && this.kind != JsonKind.Object) return 0;
    let text = this.text;
    let isObject = this.kind == JsonKind.Object;
    let i = skipWs(text, this.start + 1);
    let n = 0;
    while (i < this.end - 1) {
      if (isObject) i = skipWs(text, skipWs(text, scanString(text, i)) + 1); // key and ':'
      i = skipWs(text, scanValue(text, i, 0));
      n++;
      i = skipWs(text, i + 1); // ',' or the closing bracket
    }
    return n;
  }

  /** Element `index` of an array; null if out of range or this is not an array. */
  at(index: i32): JsonValue | null {
    if (this.kind != JsonKind.Array || index < 0) return null;
    let text = this.text;
    let i = skipWs(text, this.start + 1);
    let n = 0;
    while (i < this.end - 1) {
      let e = scanValue(text, i, 0);
      if (n == index) return JsonValue.at(text, i, e);
      n++;
      i = skipWs(text, skipWs(text, e) + 1);
    }
    return null;
  }

  /** Member `key` of an object (the last one if repeated); null if missing or not an object. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    let text = this.text;
    let found: JsonValue | null = null;
    let i = skipWs(text, this.start + 1);
    while (i < this.end - 1) {
      let keyEnd = scanString(text, i);
      let v = skipWs(text, skipWs(text, keyEnd) + 1);
      let e = scanValue(text, v, 0);
      if (keyEquals(text, i + 1, keyEnd - 1, key)) found = JsonValue.at(text, v, e);
      i = skipWs(text, skipWs(text, e) + 1);
    }
    return found;
  }

  /** Member `key` as an integer, or `otherwise` if it is missing or not an integer. */
  getI64(key: string, otherwise: i64 = 0): i64 {
    let v = this.get(key);
    return v !== null && v.isInteger() ? v.toI64() : otherwise;
  }

  /** Member `key` as a bool, or `otherwise` if it is missing or not a bool. */
  getBool(key: string, otherwise: bool = false): bool {
    let v = this.get(key);
    return v !== null && v.isBool() ? v.toBool() : otherwise;
  }

  /** Member `key` as a string, or null if it is missing or not a string. */
  getString(key: string): string | null {
    let v = this.get(key);
    return v !== null && v.isString() ? v.toStr() : null;
  }
}

// ---- scanning (all positions are UTF-16 code unit indexes into the text) -------------------

function kindOf(c: i32): JsonKind {
  if (c == 0x7b) return JsonKind.Object;
  if (c == 0x5b) return JsonKind.Array;
  if (c == 0x22) return JsonKind.String;
  if (c == 0x74 || c == 0x66) return JsonKind.Bool;
  if (c == 0x6e) return JsonKind.Null;
  return JsonKind.Number;
}

function skipWs(s: string, i: i32): i32 {
  while (true) {
    let c = s.charCodeAt(i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return i;
    i++;
  }
}

function isDigit(c: i32): bool {
  return <u32>(c - 0x30) < 10;
}

/** Scans the value at `i`; returns the index just past it, or -1 if it is malformed. */
function scanValue(s: string, i: i32, depth: i32): i32 {
  let c = s.charCodeAt(i);
  if (c == 0x7b || c == 0x5b) { // object or array
    if (depth >= JSON_MAX_DEPTH) return -1;
    let isObject = c == 0x7b;
    let close = isObject ? 0x7d : 0x5d;
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) == close) return i + 1;
    while (true) {
      if (isObject) {
        if (s.charCodeAt(i) != 0x22) return -1;
        i = skipWs(s, scanString(s, i));
        if (i < 0 || s.charCodeAt(i) != 0x3a) return -1;
        i = skipWs(s, i + 1);
      }
      i = scanValue(s, i, depth + 1);
      if (i < 0) return -1;
      i = skipWs(s, i);
      c = s.charCodeAt(i);
      if (c == close) return i + 1;
      if (c != 0x2c) return -1;
      i = skipWs(s, i + 1);
    }
  }
  if (c == 0x22) return scanString(s, i);
  if (c == 0x74) return literal(s, i, "true");
  if (c == 0x66) return literal(s, i, "false");
  if (c == 0x6e) return literal(s, i, "null");
  if (c == 0x2d || isDigit(c)) return scanNumber(s, i);
  return -1;
}

function literal(s: string, i: i32, word: string): i32 {
  let n = word.length;
  for (let k = 0; k < n; k++) {
    if (s.charCodeAt(i + k) != word.charCodeAt(k)) return -1;
  }
  return i + n;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function scanNumber(s: string, i: i32): i32 {
  if (s.charCodeAt(i) == 0x2d) i++;
  let c = s.charCodeAt(i);
  if (c == 0x30) i++;
  else if (isDigit(c)) { while (isDigit(s.charCodeAt(i))) i++; }
  else return -1;
  if (s.charCodeAt(i) == 0x2e) {
    i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  c = s.charCodeAt(i);
  if (c == 0x65 || c == 0x45) {
    i++;
    c = s.charCodeAt(i);
    if (c == 0x2b || c == 0x2d) i++;
    if (!isDigit(s.charCodeAt(i))) return -1;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  return i;
}

/** Scans the string starting at the quote at `i`; returns the index past its closing quote, or -1. */
function scanString(s: string, i: i32): i32 {
  i++;
  while (true) {
    let c = s.charCodeAt(i);
    if (c == 0x22) return i + 1;
    if (c < 0x20) return -1; // control character, or the end of the text (-1)
    if (c == 0x5c) {
      c = s.charCodeAt(i + 1);
      if (c == 0x75) {
        for (let k = 2; k < 6; k++) if (hexValue(s.charCodeAt(i + k)) < 0) return -1;
        i += 6;
        continue;
      }
      if (c != 0x22 && c != 0x5c && c != 0x2f && c != 0x62 && c != 0x66 && c != 0x6e && c != 0x72 && c != 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function isZero(s: string, start: i32, end: i32): bool {
  if (s.charCodeAt(start) == 0x2d) start++;
  return end - start == 1 && s.charCodeAt(start) == 0x30;
}

/**
 * The integer in s[start, end). With `check`, returns 0 for anything that is not an integer
 * literal fitting in i64 (callers tell a real 0 apart with isZero).
 */
function parseInteger(s: string, start: i32, end: i32, check: bool): i64 {
  let neg = s.charCodeAt(start) == 0x2d;
  let i = neg ? start + 1 : start;
  let limit: u64 = neg ? 0x8000000000000000 : 0x7fffffffffffffff;
  let v: u64 = 0;
  for (; i < end; i++) {
    let d = s.charCodeAt(i) - 0x30;
    if (<u32>d >= 10) return 0; // '.', 'e' or 'E': not an integer
    if (check && v > (limit - <u64>d) / 10) return 0; // does not fit
    v = v * 10 + <u64>d;
  }
  return neg ? -(<i64>v) : <i64>v;
}

/** Compares the JSON string body s[start, end) (still escaped) with `key`. */
function keyEquals(s: string, start: i32, end: i32, key: string): bool {
  let n = end - start;
  let backslash = s.indexOf("\\", start);
  if (backslash < 0 || backslash >= end) {
    if (n != key.length) return false;
    return memory.compare(
      changetype<usize>(s) + (<usize>start << 1), changetype<usize>(key), <usize>n << 1
    ) == 0;
  }
  return unescape(s, start, end) == key;
}

/** Decodes the escaped JSON string body s[start, end). */
function unescape(s: string, start: i32, end: i32): string {
  let first = s.indexOf("\\", start);
  if (first < 0 || first >= end) return s.substring(start, end);
  // Pass 1: decoded length in UTF-16 code units. Pass 2: write them.
  let n = 0;
  for (let i = start; i < end; i++, n++) {
    if (s.charCodeAt(i) == 0x5c) i += s.charCodeAt(i + 1) == 0x75 ? 5 : 1;
  }
  let out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  let p = changetype<usize>(out);
  for (let i = start; i < end; i++, p += 2) {
    let c = s.charCodeAt(i);
    if (c == 0x5c) {
      c = s.charCodeAt(++i);
      if (c == 0x75) {
        c = (hexValue(s.charCodeAt(i + 1)) << 12) | (hexValue(s.charCodeAt(i + 2)) << 8) |
            (hexValue(s.charCodeAt(i + 3)) << 4) | hexValue(s.charCodeAt(i + 4));
        i += 4;
      } else if (c == 0x62) c = 0x08;
      else if (c == 0x66) c = 0x0c;
      else if (c == 0x6e) c = 0x0a;
      else if (c == 0x72) c = 0x0d;
      else if (c == 0x74) c = 0x09;
      // '"', '\\' and '/' stand for themselves
    }
    store<u16>(p, <u16>c);
  }
  return out;
}
