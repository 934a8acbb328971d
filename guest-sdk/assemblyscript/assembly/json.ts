// Hand-written JSON output helpers (a JSON library costs 15+ KB of wasm; these cost little).
//
//   Response.json(new JsonObject().str("name", name).int("count", n).toString())

import { decimal } from "./util";

const HEX = "0123456789abcdef";

/** `s` as a JSON string literal, quotes included: jsonString('a"b') == '"a\\"b"'. */
export function jsonString(s: string): string {
  let out = "\"";
  let from = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(from, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15); // (toString(16) costs 1 KB)
    from = i + 1;
  }
  return out + s.substring(from) + "\"";
}

/** Builds one flat JSON object, member by member, in insertion order. */
export class JsonObject {
  private text: string = "";

  /** Adds `"key": "value"` (escaped). */
  str(key: string, value: string): JsonObject {
    return this.raw(key, jsonString(value));
  }

  /** Adds `"key": <integer>`. */
  int(key: string, value: i64): JsonObject {
    return this.raw(key, decimal(value));
  }

  /** Adds `"key": true|false`. */
  bool(key: string, value: bool): JsonObject {
    return this.raw(key, value ? "true" : "false");
  }

  /** Adds `"key": null`. */
  null(key: string): JsonObject {
    return this.raw(key, "null");
  }

  /** Adds `"key": <json>`, where `json` is already-serialized JSON (e.g. a nested object). */
  raw(key: string, json: string): JsonObject {
    this.text += (this.text.length ? "," : "") + jsonString(key) + ":" + json;
    return this;
  }

  /** The object as JSON text: `{"a":1,...}`. */
  toString(): string {
    return "{" + this.text + "}";
  }
}

/** Builds one JSON array, element by element: `new JsonArray().int(100).toString()` == "[100]". */
export class JsonArray {
  private text: string = "";

  /** Appends a string (escaped). */
  str(value: string): JsonArray {
    return this.raw(jsonString(value));
  }

  /** Appends an integer. */
  int(value: i64): JsonArray {
    return this.raw(decimal(value));
  }

  /** Appends `true` or `false`. */
  bool(value: bool): JsonArray {
    return this.raw(value ? "true" : "false");
  }

  /** Appends `null`. */
  null(): JsonArray {
    return this.raw("null");
  }

  /** Appends already-serialized JSON (e.g. a nested object). */
  raw(json: string): JsonArray {
    this.text += (this.text.length ? "," : "") + json;
    return this;
  }

  /** The array as JSON text: `[1,"a"]`. */
  toString(): string {
    return "[" + this.text + "]";
  }
}
