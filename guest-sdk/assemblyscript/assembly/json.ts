// Hand-written JSON output (a JSON library costs 15+ KB of wasm; these cost little). The
// builders write UTF-8 straight into a byte buffer, which Response.json sends as is:
//
//   Response.json(new JsonObject().str("name", name).int("count", n))   // {"name":"x","count":3}

import { ByteBuffer } from "./bytes";
import { JsonValue } from "./jsonread";

/**
 * Already-serialized JSON, as an actor method's parameter or result type. A method declared
 * `debit(amount: i64): JsonText` returns its text as is (`{"ok":true,"balance":5}`), where a
 * `string` result would be sent as a JSON string. A `JsonText` parameter receives the
 * argument's JSON text, whatever its type.
 */
export class JsonText {
  constructor(public readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** `s` as a JSON string literal, quotes included: jsonString('a"b') == '"a\\"b"'. */
export function jsonString(s: string): string {
  return new ByteBuffer(s.length + 8).json(s).toString();
}

/**
 * Appends `v` as JSON: bool, integer types, f32/f64 (integral values without ".0" as in
 * JavaScript; NaN/Infinity as null), string (quoted), `string | null`, JsonText (as is),
 * JsonValue (as read), JsonObject, JsonArray; null references as null.
 */
export function writeJson<T>(out: ByteBuffer, v: T): void {
  if (isBoolean<T>()) {
    out.str(v ? "true" : "false");
  } else if (isInteger<T>()) {
    if (isSigned<T>()) out.int(<i64>v);
    else out.uint(<u64>v);
  } else if (isFloat<T>()) {
    let f = <f64>v;
    if (!isFinite(f)) out.str("null");
    else if (f == Math.trunc(f) && Math.abs(f) < 9007199254740992) out.int(<i64>f);
    else out.str(f.toString());
  } else if (isNullable<T>() && changetype<usize>(v) == 0) {
    out.str("null");
  } else if (isString<T>()) {
    out.json(changetype<string>(v));
  } else if (v instanceof JsonText) {
    out.str(v.text);
  } else if (v instanceof JsonValue) {
    out.str(v.raw());
  } else if (v instanceof JsonObject || v instanceof JsonArray) {
    v.writeTo(out);
  } else {
    ERROR("JSON values are bool, integers, f32/f64, string, JsonText, JsonValue, JsonObject or JsonArray");
  }
}

/** Builds one JSON object, member by member, in insertion order. */
export class JsonObject {
  private bytes: ByteBuffer = new ByteBuffer().byte(0x7b);

  private key(key: string): ByteBuffer {
    let b = this.bytes;
    if (b.length > 1) b.byte(0x2c);
    return b.json(key).byte(0x3a);
  }

  /** Adds `"key": "value"` (escaped). */
  str(key: string, value: string): JsonObject {
    this.key(key).json(value);
    return this;
  }

  /** Adds `"key": <integer>`. */
  int(key: string, value: i64): JsonObject {
    this.key(key).int(value);
    return this;
  }

  /** Adds `"key": <number>` (integral values without ".0"; NaN and infinities as null). */
  num(key: string, value: f64): JsonObject {
    writeJson<f64>(this.key(key), value);
    return this;
  }

  /** Adds `"key": true|false`. */
  bool(key: string, value: bool): JsonObject {
    this.key(key).str(value ? "true" : "false");
    return this;
  }

  /** Adds `"key": null`. */
  null(key: string): JsonObject {
    this.key(key).str("null");
    return this;
  }

  /** Adds `"key": <json>`, where `json` is already-serialized JSON (e.g. a result's text). */
  raw(key: string, json: string): JsonObject {
    this.key(key).str(json);
    return this;
  }

  /** Adds `"key": value` for any value writeJson takes (a nested JsonObject, a JsonValue, ...). */
  set<T>(key: string, value: T): JsonObject {
    writeJson<T>(this.key(key), value);
    return this;
  }

  /** Appends the object's JSON text to `out`. */
  writeTo(out: ByteBuffer): void {
    let b = this.bytes;
    out.bytes(b.dataStart, b.length).byte(0x7d);
  }

  /** The object as JSON text: `{"a":1,...}`. */
  toString(): string {
    let out = new ByteBuffer(this.bytes.length + 1);
    this.writeTo(out);
    return out.toString();
  }
}

/** Builds one JSON array, element by element: `new JsonArray().int(100)` is `[100]`. */
export class JsonArray {
  private bytes: ByteBuffer = new ByteBuffer().byte(0x5b);

  private next(): ByteBuffer {
    let b = this.bytes;
    if (b.length > 1) b.byte(0x2c);
    return b;
  }

  /** Appends a string (escaped). */
  str(value: string): JsonArray {
    this.next().json(value);
    return this;
  }

  /** Appends an integer. */
  int(value: i64): JsonArray {
    this.next().int(value);
    return this;
  }

  /** Appends `true` or `false`. */
  bool(value: bool): JsonArray {
    this.next().str(value ? "true" : "false");
    return this;
  }

  /** Appends `null`. */
  null(): JsonArray {
    this.next().str("null");
    return this;
  }

  /** Appends already-serialized JSON. */
  raw(json: string): JsonArray {
    this.next().str(json);
    return this;
  }

  /** Appends any value writeJson takes: `new JsonArray().add(amount).add(name)`. */
  add<T>(value: T): JsonArray {
    writeJson<T>(this.next(), value);
    return this;
  }

  /** Appends the array's JSON text to `out`. */
  writeTo(out: ByteBuffer): void {
    let b = this.bytes;
    out.bytes(b.dataStart, b.length).byte(0x5d);
  }

  /** The array as JSON text: `[1,"a"]`. */
  toString(): string {
    let out = new ByteBuffer(this.bytes.length + 1);
    this.writeTo(out);
    return out.toString();
  }
}
