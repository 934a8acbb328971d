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

import { shrunk } from "./bytes";

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
    let c = text.charCodeAt(start);
    let kind = c == 0x7b ? JsonKind.Object : c == 0x5b ? JsonKind.Array : c == 0x22 ? JsonKind.String
      : c == 0x74 || c == 0x66 ? JsonKind.Bool : c == 0x6e ? JsonKind.Null : JsonKind.Number;
    return new JsonValue(text, start, end, kind);
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
    return this.text.charCodeAt(this.start) == 0x74;
  }

  /**
   * True if this is a number written as an integer (no fraction, no exponent) that fits in an
   * i64. `1.0` and `1e2` are not integers here.
   */
  isInteger(): bool {
    return this.kind == JsonKind.Number && parseInteger(this.text, this.start, this.end);
  }

  /** The value of an integer (see isInteger); 0 for anything else. */
  toI64(): i64 {
    return this.isInteger() ? integerValue : 0;
  }

  /** True if this is a non-negative integer that fits in a u64 (up to 2^64-1). */
  isU64(): bool {
    return this.kind == JsonKind.Number && parseInteger(this.text, this.start, this.end, true);
  }

  /** The value of a u64 integer (see isU64); 0 for anything else. */
  toU64(): u64 {
    return this.isU64() ? <u64>integerValue : 0;
  }

  /** The value of a number as f64 (NaN if this is not a number). */
  toF64(): f64 {
    return this.kind == JsonKind.Number ? parseFloat(this.raw()) : NaN;
  }

  /** The value of a string, unescaped; "" if this is not a string. */
  toStr(): string {
    let s = this.kind == JsonKind.String ? readJsonString(this.text, this.start) : null;
    return s !== null ? s : "";
  }

  /** Number of elements (array) or members (object); 0 otherwise. */
  get length(): i32 {
    let n = 0;
    if (this.kind >= JsonKind.Array) {
      let i = this.start;
      while ((i = this.next(i)) >= 0) n++;
    }
    return n;
  }

  /** Element `index` of an array; null if out of range or this is not an array. */
  at(index: i32): JsonValue | null {
    if (this.kind == JsonKind.Array) {
      let i = this.start;
      while ((i = this.next(i)) >= 0) {
        if (index-- == 0) return JsonValue.at(this.text, i, memberEnd);
      }
    }
    return null;
  }

  /** Member `key` of an object (the last one if repeated); null if missing or not an object. */
  get(key: string): JsonValue | null {
    let found: JsonValue | null = null;
    if (this.kind == JsonKind.Object) {
      let i = this.start;
      while ((i = this.next(i)) >= 0) {
        if (readJsonString(this.text, memberKey) == key) found = JsonValue.at(this.text, i, memberEnd);
      }
    }
    return found;
  }

  /**
   * Steps through an array or object: from `i` (its opening bracket, or where the last element
   * began) to the start of the next element, or -1 at the end. Sets `memberEnd` (where the
   * element ends) and, in an object, `memberKey` (where its key begins).
   */
  private next(i: i32): i32 {
    let text = this.text;
    if (i != this.start) i = skipWs(text, memberEnd); // at ',' or the closing bracket
    i = skipWs(text, i + 1); // past '[', '{' or ','
    if (i >= this.end - 1) return -1;
    if (this.kind == JsonKind.Object) {
      memberKey = i;
      i = skipWs(text, skipWs(text, scanString(text, i)) + 1); // past the key and ':'
    }
    memberEnd = scanValue(text, i, 0);
    return i;
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

let memberKey: i32 = 0;     // set by JsonValue#next
let memberEnd: i32 = 0;     // set by JsonValue#next
let integerValue: i64 = 0;  // set by parseInteger
let decodedEnd: usize = 0;  // set by scanStr

/** The index of the first non-whitespace character of `s` at or after `i`. */
export function skipWs(s: string, i: i32): i32 {
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
    let close = c + 2; // '}' or ']'
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
  // a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  if (c == 0x2d) c = s.charCodeAt(++i);
  if (!isDigit(c)) return -1;
  if (c == 0x30) i++;
  else i = digits(s, i);
  if (s.charCodeAt(i) == 0x2e) {
    if (!isDigit(s.charCodeAt(++i))) return -1;
    i = digits(s, i);
  }
  if ((s.charCodeAt(i) | 0x20) == 0x65) { // e or E
    c = s.charCodeAt(++i);
    if (c == 0x2b || c == 0x2d) c = s.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    i = digits(s, i);
  }
  return i;
}

function digits(s: string, i: i32): i32 {
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

function literal(s: string, i: i32, word: string): i32 {
  let n = word.length;
  for (let k = 0; k < n; k++) {
    if (s.charCodeAt(i + k) != word.charCodeAt(k)) return -1;
  }
  return i + n;
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * True if s[start, end) (a valid JSON number) is an integer literal that fits in an i64; its
 * value is then in `integerValue`.
 */
function parseInteger(s: string, start: i32, end: i32, unsigned: bool = false): bool {
  let neg = s.charCodeAt(start) == 0x2d;
  if (neg && unsigned) return false;
  let i = neg ? start + 1 : start;
  // u64 values above i64.MAX are kept in `integerValue`'s bits; toU64 reads them back.
  let limit: u64 = unsigned ? 0xffffffffffffffff : neg ? 0x8000000000000000 : 0x7fffffffffffffff;
  let v: u64 = 0;
  for (; i < end; i++) {
    let d = s.charCodeAt(i) - 0x30;
    if (<u32>d >= 10) return false; // '.', 'e' or 'E': not an integer
    if (v > (limit - <u64>d) / 10) return false; // does not fit
    v = v * 10 + <u64>d;
  }
  integerValue = neg ? -(<i64>v) : <i64>v;
  return true;
}

/** Where the string read by the last `readJsonString` ended (just past its closing quote). */
export let jsonStringEnd: i32 = 0;

/**
 * Scans the JSON string literal at `s[i]` (its opening quote); with `out` != 0, also writes
 * its decoded UTF-16 code units there. Returns the index past the closing quote, or -1 if it
 * is malformed. Sets `decodedEnd` to the end of what was written.
 */
function scanStr(s: string, i: i32, out: usize): i32 {
  if (s.charCodeAt(i) != 0x22) return -1;
  while (true) {
    let c = s.charCodeAt(++i); // -1 past the end
    if (c == 0x22) break;
    if (c < 0x20) return -1; // a control character, or the end of the text
    if (c == 0x5c) {
      c = s.charCodeAt(++i);
      if (c == 0x75) { // \uXXXX
        c = 0;
        for (let k = 0; k < 4; k++) {
          let h = hexValue(s.charCodeAt(++i));
          if (h < 0) return -1;
          c = c << 4 | h;
        }
      } else if (c == 0x62) c = 0x08;
      else if (c == 0x66) c = 0x0c;
      else if (c == 0x6e) c = 0x0a;
      else if (c == 0x72) c = 0x0d;
      else if (c == 0x74) c = 0x09;
      else if (c != 0x22 && c != 0x5c && c != 0x2f) return -1;
    }
    if (out) {
      store<u16>(out, <u16>c);
      out += 2;
    }
  }
  decodedEnd = out;
  return i + 1;
}

/** Scans the string starting at the quote at `i`; returns the index past its closing quote, or -1. */
function scanString(s: string, i: i32): i32 {
  return scanStr(s, i, 0);
}

/**
 * The JSON string literal at `text[i]` (whitespace before it is skipped), unescaped; null if
 * there is none there or it is malformed. Sets `jsonStringEnd`.
 */
export function readJsonString(text: string, i: i32): string | null {
  i = skipWs(text, i);
  let out = __new(<usize>max(text.length - i, 0) << 1, idof<string>()); // never longer than the literal
  let end = scanStr(text, i, out);
  if (end < 0) return null;
  jsonStringEnd = end;
  return shrunk(out, decodedEnd - out);
}
