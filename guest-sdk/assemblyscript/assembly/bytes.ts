// Bytes in, bytes out: the SDK's one growable byte buffer, and UTF-8 <-> string conversion.
//
// Everything crosses the host boundary as UTF-8 bytes (guest-sdk/ABI.md), while AssemblyScript
// strings are UTF-16. The SDK writes what it sends (responses, JSON, actor calls, messages)
// straight into a ByteBuffer as UTF-8, instead of building intermediate strings and encoding
// them, and decodes only the parts of its input that are read. This keeps modules small.

import { OBJECT, TOTAL_OVERHEAD } from "rt/common";

// ---- Utf8: UTF-8 bytes by value ------------------------------------------------------------

/**
 * A span of UTF-8 bytes, passed by value: the address in the high 32 bits, the length in the
 * low 32. `lit("...")` makes one from a string literal at build time; `utf8Of(s)` from any
 * string at run time. The byte-level API (Request#pathIs, #param, #methodIs, callJson,
 * Response.text/json, ByteBuffer#utf8) takes these, so a module that uses it with literals
 * holds its text once, as UTF-8, and needs no code to encode it.
 */
export type Utf8 = u64;

/** The span of the `len` bytes at `ptr`. */
// @ts-ignore: decorator
@inline export function utf8Span(ptr: usize, len: i32): Utf8 {
  return (<u64>ptr << 32) | <u64><u32>len;
}

/** The address of the bytes of `s`. */
// @ts-ignore: decorator
@inline export function utf8Ptr(s: Utf8): usize {
  return <usize>(s >>> 32);
}

/** The length of `s` in bytes. */
// @ts-ignore: decorator
@inline export function utf8Len(s: Utf8): i32 {
  return <i32>(s & 0xffffffff);
}

/**
 * The UTF-8 bytes of a string literal: `lit("/health")`. The build (transform/literals.js)
 * stores them as static data in place of the call, so the module holds neither the UTF-16
 * string nor code to encode it. Given anything but one string literal (or built without the
 * transform), it encodes `text` at run time, with the same result.
 */
export function lit(text: string): Utf8 {
  return utf8Of(text);
}

/** The UTF-8 bytes of `s`, encoded at run time into a fresh buffer. */
export function utf8Of(s: string): Utf8 {
  let b = utf8(s);
  return utf8Span(b.dataStart, b.length);
}

/** `s` as UTF-8 bytes: a Utf8 as it is, a ByteBuffer's bytes, a string encoded at run time. */
// @ts-ignore: decorator
@inline export function toUtf8<T>(s: T): Utf8 {
  if (isString<T>()) {
    return utf8Of(changetype<string>(s));
  } else if (isInteger<T>() && sizeof<T>() == 8) {
    return <Utf8>s;
  } else if (idof<T>() == idof<ByteBuffer>()) {
    let b = changetype<ByteBuffer>(s);
    return utf8Span(b.dataStart, b.length);
  } else {
    ERROR("expected a string, a Utf8 (lit(\"...\")) or a ByteBuffer");
    return 0;
  }
}

/** True if the `len` bytes at `p` equal the bytes of `s`. */
export function bytesEqual(p: usize, len: i32, s: Utf8): bool {
  if (len != utf8Len(s)) return false;
  let q = utf8Ptr(s);
  for (let end = p + <usize>len; p < end; p++, q++) {
    if (load<u8>(p) != load<u8>(q)) return false;
  }
  return true;
}

/** A new managed ArrayBuffer of `size` bytes, not zeroed (for bytes about to be written). */
function rawBuffer(size: i32): ArrayBuffer {
  return changetype<ArrayBuffer>(__new(<usize>size, idof<ArrayBuffer>()));
}

/** A growable byte buffer (managed, so the GC of actor modules sees it). */
export class ByteBuffer {
  /** Storage; only the first `length` bytes are meaningful. */
  buffer: ArrayBuffer;
  /** Bytes written so far. */
  length: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buffer = rawBuffer(capacity);
  }

  /** Address of byte 0. Valid until the next write (a write may move the storage). */
  // @ts-ignore: decorator
  @inline get dataStart(): usize {
    return changetype<usize>(this.buffer);
  }

  /** Makes room for `n` more bytes and returns the address to write them at (then `commit`). */
  reserve(n: i32): usize {
    let need = this.length + n;
    let cap = this.buffer.byteLength;
    if (need > cap) {
      let grown = rawBuffer(max(need, cap << 1));
      memory.copy(changetype<usize>(grown), changetype<usize>(this.buffer), <usize>this.length);
      this.buffer = grown;
    }
    return changetype<usize>(this.buffer) + <usize>this.length;
  }

  /** Marks the bytes up to address `end` (inside the last reservation) as written. */
  // @ts-ignore: decorator
  @inline commit(end: usize): this {
    this.length = <i32>(end - changetype<usize>(this.buffer));
    return this;
  }

  /** Appends one byte. */
  byte(b: i32): this {
    store<u8>(this.reserve(1), <u8>b);
    this.length++;
    return this;
  }

  /** Appends `len` bytes from address `src` (which must not point into this buffer: a write may move it). */
  bytes(src: usize, len: i32): this {
    let p = this.reserve(len);
    memory.copy(p, src, <usize>len);
    return this.commit(p + <usize>len);
  }

  /** Appends a little-endian u32. */
  u32(v: u32): this {
    store<u32>(this.reserve(4), v);
    this.length += 4;
    return this;
  }

  /** Appends the bytes of `s` (from `lit("...")` or `utf8Of`). */
  utf8(s: Utf8): this {
    return this.bytes(utf8Ptr(s), utf8Len(s));
  }

  /** Appends `s` as UTF-8. */
  str(s: string): this {
    return writeUtf8(this, changetype<usize>(s), s.length, false);
  }

  /** Appends `n` UTF-16 code units at address `src` (part of a string) as UTF-8. */
  units(src: usize, n: i32): this {
    return writeUtf8(this, src, n, false);
  }

  /** Appends `s` as a JSON string literal (quoted, escaped), UTF-8. */
  json(s: string): this {
    this.byte(0x22);
    return writeUtf8(this, changetype<usize>(s), s.length, true).byte(0x22);
  }

  /** Appends `s` as a wire `str`: u32 byte length, then UTF-8. */
  wireStr(s: string): this {
    let at = this.length;
    this.u32(0);
    this.str(s);
    store<u32>(this.dataStart + <usize>at, <u32>(this.length - at - 4));
    return this;
  }

  /** Appends the decimal digits of `v`. */
  int(v: i64): this {
    if (v < 0) this.byte(0x2d);
    return this.uint(<u64>(v < 0 ? -v : v));
  }

  /** Appends the decimal digits of the unsigned `v`. */
  uint(v: u64): this {
    let end = memory.data(20) + 20; // scratch: u64 has at most 20 digits
    let p = end;
    do {
      store<u8>(--p, <u8>(0x30 + v % 10));
      v /= 10;
    } while (v != 0);
    return this.bytes(p, <i32>(end - p));
  }

  /** Appends the bytes of `b`. */
  append(b: ByteBuffer): this {
    return this.bytes(b.dataStart, b.length);
  }

  /**
   * Appends the UTF-8 bytes of `b` as a JSON string literal (quoted; `"`, `\\` and control
   * characters escaped, the latter as \\u00XX), without decoding them to a string.
   */
  jsonUtf8(b: ByteBuffer): this {
    this.byte(0x22);
    for (let i = 0; i < b.length; i++) {
      let c = <u32>load<u8>(b.dataStart + <usize>i);
      if (c == 0x22 || c == 0x5c) {
        this.byte(0x5c); // \" \\
      } else if (c < 0x20) {
        this.u32(0x3030755c).byte(0x30 + (c >> 4)); // \u00, then the high digit (0 or 1)
        c &= 15;
        c += c < 10 ? 0x30 : 0x57;
      }
      this.byte(c);
    }
    return this.byte(0x22);
  }

  /** Appends the `len` bytes at `src` with their %XX escapes decoded (a malformed escape is kept as is). */
  percentDecoded(src: usize, len: i32): this {
    let end = src + <usize>len;
    let p = this.reserve(len);
    while (src < end) {
      let c = <u32>load<u8>(src++);
      if (c == 0x25 && src + 1 < end) {
        let hi = hexValue(load<u8>(src));
        let lo = hexValue(load<u8>(src + 1));
        if ((hi | lo) >= 0) {
          c = hi << 4 | lo;
          src += 2;
        }
      }
      store<u8>(p++, <u8>c);
    }
    return this.commit(p);
  }

  /** The bytes written, decoded as UTF-8. */
  toString(): string {
    return readUtf8(this.dataStart, this.length);
  }
}

/** The value of hex digit `c`, or -1. */
function hexValue(c: i32): i32 {
  if (<u32>(c - 0x30) < 10) return c - 0x30;
  c |= 0x20;
  if (<u32>(c - 0x61) < 6) return c - 0x61 + 10;
  return -1;
}

/**
 * Appends the UTF-8 encoding of the `n` UTF-16 code units at `src`; with `json`, escapes them
 * for a JSON string body (`"`, `\`, control characters, as JSON.stringify does). Lone
 * surrogates become U+FFFD, so the output is always valid UTF-8.
 */
function writeUtf8<T extends ByteBuffer>(out: T, src: usize, n: i32, json: bool): T {
  let end = src + (<usize>n << 1);
  // The worst case: 6 bytes a unit for JSON (\u00XX), else 3 (a surrogate pair gives 4 for 2).
  let p = out.reserve(n * (json ? 6 : 3));
  while (src < end) {
    let c = <u32>load<u16>(src);
    src += 2;
    if (c < 0x80) {
      if (json && (c < 0x20 || c == 0x22 || c == 0x5c)) {
        let e = c == 0x0a ? 0x6e : c == 0x0d ? 0x72 : c == 0x09 ? 0x74 : c >= 0x20 ? c : 0;
        store<u8>(p++, 0x5c);
        if (e) {
          c = e; // \" \\ \n \r \t
        } else {
          store<u32>(p, 0x30303075 + (c >> 4 << 24)); // "u00" and the high digit, 0 or 1
          c &= 15;
          c += c < 10 ? 0x30 : 0x57;
          p += 4;
        }
      }
      store<u8>(p++, <u8>c);
      continue;
    }
    let k = c < 0x800 ? 1 : 2; // continuation bytes
    if ((c & 0xf800) == 0xd800) { // a surrogate
      let d = src < end ? <u32>load<u16>(src) : 0;
      if (c < 0xdc00 && (d & 0xfc00) == 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
        k = 3;
        src += 2;
      } else {
        c = 0xfffd; // a lone surrogate
      }
    }
    store<u8>(p++, <u8>((0xff80 >> k) | c >> (6 * k)));
    while (k--) store<u8>(p++, <u8>(0x80 | (c >> (6 * k)) & 63));
  }
  out.commit(p);
  return out;
}

/** Decodes `len` UTF-8 bytes at `ptr` (malformed sequences are decoded leniently, never trap). */
export function readUtf8(ptr: usize, len: i32): string {
  let str = __new(<usize>len << 1, idof<string>()); // at most one unit per byte
  let q = str;
  let end = ptr + <usize>len;
  while (ptr < end) {
    let c = <u32>load<u8>(ptr++);
    if (c >= 0x80) {
      // lead byte: 2, 3 or 4 bytes; continuation bytes are taken as they come
      let k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
      if (c < 0xc0 || ptr + <usize>k > end) {
        c = 0xfffd;
      } else {
        c &= 0x3f >> k;
        while (k--) c = c << 6 | (<u32>load<u8>(ptr++) & 63);
        if (c >= 0x10000) {
          c -= 0x10000;
          store<u16>(q, <u16>(0xd800 | c >> 10));
          q += 2;
          c = 0xdc00 | c & 0x3ff;
        }
      }
    }
    store<u16>(q, <u16>c);
    q += 2;
  }
  return shrunk(str, q - str);
}

/**
 * The string at `str` (fresh from __new, not shared) cut to `size` bytes. The block keeps its
 * allocated size; only the length in the object header changes (what __renew would do for a
 * shrink, without pulling the runtime's realloc into every module).
 */
export function shrunk(str: usize, size: usize): string {
  changetype<OBJECT>(str - TOTAL_OVERHEAD).rtSize = <u32>size;
  return changetype<string>(str);
}

/** A string's UTF-8 bytes, in a fresh ByteBuffer. */
export function utf8(s: string): ByteBuffer {
  return new ByteBuffer(s.length + 8).str(s);
}
