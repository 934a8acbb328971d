// HTTP request/response types and their wire encoding (guest-sdk/ABI.md, "Wire encoding"):
//
//   request  = method:str  url:str  headers  body:bytes
//   response = status:u32  headers  body:bytes
//   headers  = count:u32  (name:str value:str){count}
//
// u32 are little-endian (as is wasm memory); str/bytes are a u32 length plus that many bytes.
// A Request keeps the encoded bytes and decodes a part (headers, query, body text) only when
// it is read; a Response is written to the host in one piece.

import { ByteBuffer, readUtf8, utf8, Utf8, lit, toUtf8, utf8Ptr, utf8Len, bytesEqual } from "./bytes";
import { fail } from "./abort";
import { JsonObject, JsonArray } from "./json";
import { JsonValue } from "./jsonread";

// Text the SDK sends, as UTF-8 (see `lit`); one copy each in the module.
const CONTENT_TYPE = lit("content-type");
const MALFORMED = lit("malformed input");

/** One header line (what `Headers#entries` gives). */
export class Header {
  constructor(
    /** The name as given (request header names are lower-case). */
    public name: string,
    public value: string
  ) {}
}

/** True if the `n` bytes at `p` and at `q` are equal ignoring ASCII case (header names are ASCII). */
function equalsIgnoreCase(p: usize, q: usize, n: i32): bool {
  for (let end = p + <usize>n; p < end; p++, q++) {
    let x = <u32>load<u8>(p);
    let y = <u32>load<u8>(q);
    if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) - 0x61 > 25)) return false;
  }
  return true;
}

/**
 * An ordered list of header lines, looked up case-insensitively, like the platform's `Headers`.
 * The lines are kept in their wire encoding (guest-sdk/ABI.md): a request's are its input
 * bytes as they came, a response's are sent as they are, and a line is decoded to strings
 * only when it is read.
 */
export class Headers {
  /** @hidden The lines: (name:str value:str)*, each str a u32 length and UTF-8 bytes. */
  lines: ByteBuffer;
  /** @hidden The number of lines. */
  count: i32 = 0;

  constructor() {
    this.lines = new ByteBuffer(0);
  }

  /** The first value of header `name` (case-insensitive), or null. */
  get(name: string): string | null {
    let key = utf8(name);
    let p = this.find(key, this.lines.dataStart);
    return p != 0 ? this.valueAt(p) : null;
  }

  /** Every value of header `name`, in order (a repeated header appears once per value). */
  getAll(name: string): string[] {
    let key = utf8(name);
    let out = new Array<string>();
    for (let p = this.find(key, this.lines.dataStart); p != 0; p = this.find(key, next(next(p)))) {
      out.push(this.valueAt(p));
    }
    return out;
  }

  /** True if header `name` is present. */
  has(name: string): bool {
    return this.find(utf8(name), this.lines.dataStart) != 0;
  }

  /** Adds a line `name: value` after the others (e.g. a second set-cookie). */
  append(name: string, value: string): void {
    this.lines.wireStr(name).wireStr(value);
    this.count++;
  }

  /** @hidden Adds a line from UTF-8 bytes (the byte-level counterpart of `append`). */
  add(name: Utf8, value: Utf8): void {
    this.lines.u32(utf8Len(name)).utf8(name).u32(utf8Len(value)).utf8(value);
    this.count++;
  }

  /** Removes every line of header `name`. */
  delete(name: string): void {
    let key = utf8(name);
    let old = this.lines;
    let kept = new ByteBuffer(old.length);
    let count = 0;
    let end = old.dataStart + <usize>old.length;
    for (let p = old.dataStart; p < end; p = next(next(p))) {
      if (!nameIs(p, key)) {
        kept.bytes(p, <i32>(next(next(p)) - p));
        count++;
      }
    }
    this.lines = kept;
    this.count = count;
  }

  /** Replaces every line of header `name` with one `name: value`. */
  set(name: string, value: string): void {
    this.delete(name);
    this.append(name, value);
  }

  /** All lines, in order. */
  entries(): Header[] {
    let out = new Array<Header>();
    let end = this.lines.dataStart + <usize>this.lines.length;
    for (let p = this.lines.dataStart; p < end; p = next(next(p))) {
      out.push(new Header(readUtf8(p + 4, load<i32>(p)), this.valueAt(p)));
    }
    return out;
  }

  /** The address of the first line at or after `p` named `key`, or 0. */
  private find(key: ByteBuffer, p: usize): usize {
    let end = this.lines.dataStart + <usize>this.lines.length;
    for (; p < end; p = next(next(p))) if (nameIs(p, key)) return p;
    return 0;
  }

  /** The value of the line at `p`, decoded. */
  private valueAt(p: usize): string {
    let v = next(p);
    return readUtf8(v + 4, load<i32>(v));
  }
}

/** The address just past the wire `str` at `p` (whose length was checked). */
// @ts-ignore: decorator
@inline function next(p: usize): usize {
  return p + 4 + <usize>load<u32>(p);
}

/** True if the line at `p` is named `key` (ASCII case-insensitive). */
function nameIs(p: usize, key: ByteBuffer): bool {
  return load<i32>(p) == key.length && equalsIgnoreCase(p + 4, key.dataStart, key.length);
}

// ---- Request ---------------------------------------------------------------------------------

/** Index of byte `c` in [from, to) of `base`, or `to`. */
function find(base: usize, from: i32, to: i32, c: u32): i32 {
  while (from < to && <u32>load<u8>(base + <usize>from) != c) from++;
  return from;
}

/** Offset just past the wire `str` at offset `at` of `input` (fails if it does not fit). */
function skipField(input: ArrayBuffer, at: i32): i32 {
  let left = input.byteLength - at - 4; // at <= byteLength: it is the end of the previous field
  if (left < 0 || load<u32>(changetype<usize>(input) + <usize>at) > <u32>left) fail(MALFORMED);
  return at + 4 + load<i32>(changetype<usize>(input) + <usize>at);
}

/** An incoming HTTP request. */
export class Request {
  private path0: i32;     // the path is [path0, path1) of `input`
  private path1: i32;
  private query1: i32;    // the query is [path1 + 1, query1) (empty if there is no "?")
  private headersAt: i32; // also where the url ends
  private bodyStart: i32 = 0; // where the body field begins; 0 until the headers were skipped
  private cachedHeaders: Headers | null = null;

  /** @hidden Decodes an encoded request (fails if it is malformed). Use `readRequest()`. */
  constructor(private input: ArrayBuffer) {
    let base = changetype<usize>(input);
    let urlAt = skipField(input, 0);
    let headersAt = skipField(input, urlAt);
    this.headersAt = headersAt;

    // url = scheme "://" authority [path] ["?" query] ["#" fragment]
    let start = urlAt + 4;
    let end = find(base, start, headersAt, 0x23); // '#'
    let q = find(base, start, end, 0x3f);         // '?'
    let p = start;
    let colon = find(base, start, q, 0x3a);       // ':' of "://"
    if (colon + 2 < q && load<u16>(base + <usize>colon + 1) == 0x2f2f) p = find(base, colon + 3, q, 0x2f);
    this.path0 = p;
    this.path1 = q;
    this.query1 = end;
  }

  /** Upper-case method: "GET", "POST", ... */
  get method(): string {
    return readUtf8(changetype<usize>(this.input) + 4, load<i32>(changetype<usize>(this.input)));
  }

  /** The path part of the URL, starting with "/" (e.g. "/echo"), still percent-encoded. */
  get path(): string {
    let n = this.path1 - this.path0;
    return n > 0 ? readUtf8(changetype<usize>(this.input) + <usize>this.path0, n) : "/";
  }

  /**
   * True if the method is `method`: `req.methodIs(lit("GET"))` (or a string), compared as
   * bytes: cheaper than `req.method == "GET"`, which decodes the method to a string first.
   */
  methodIs<T>(method: T): bool {
    return bytesEqual(changetype<usize>(this.input) + 4, load<i32>(changetype<usize>(this.input)), toUtf8(method));
  }

  /**
   * True if the path is exactly `path` (still percent-encoded): `req.pathIs(lit("/health"))`
   * (or a string), compared as bytes: cheaper than `req.path == "/health"`.
   */
  pathIs<T>(path: T): bool {
    let s = toUtf8(path);
    let n = this.path1 - this.path0;
    if (n == 0) return utf8Len(s) == 1 && load<u8>(utf8Ptr(s)) == 0x2f; // (no path: "/")
    return bytesEqual(changetype<usize>(this.input) + <usize>this.path0, n, s);
  }

  /**
   * The byte-level counterpart of `match(pattern, req.path)`: `req.param(lit("/accounts/:id/balance"))`
   * (or a string) gives the `:id` segment of the path (the last one, if the pattern has more),
   * percent-decoded, as UTF-8 bytes; null if the path does not match or the pattern has no
   * `:name`. It neither decodes the path nor builds strings; `match` is the general form.
   */
  param<T>(pattern: T): ByteBuffer | null {
    let pat = toUtf8(pattern);
    let q = utf8Ptr(pat);
    let qEnd = q + <usize>utf8Len(pat);
    let p = changetype<usize>(this.input) + <usize>this.path0;
    let end = changetype<usize>(this.input) + <usize>this.path1;
    let s: usize = 0; // the segment is [s, e)
    let e: usize = 0;
    while (q < qEnd) {
      let c = load<u8>(q++);
      if (c == 0x3a) { // ":name" matches one non-empty path segment
        while (q < qEnd && load<u8>(q) != 0x2f) q++;
        s = p;
        while (p < end && load<u8>(p) != 0x2f) p++;
        if (p == s) return null;
        e = p;
      } else {
        if (p == end || load<u8>(p) != c) return null;
        p++;
      }
    }
    if (p != end || s == 0) return null;
    return new ByteBuffer(<i32>(e - s)).percentDecoded(s, <i32>(e - s));
  }

  /** Absolute URL as the function sees it: "http://{host}{path}?{query}". */
  get url(): string {
    let at = 8 + load<i32>(changetype<usize>(this.input)); // past the method and the url's length
    return readUtf8(changetype<usize>(this.input) + <usize>at, this.headersAt - at);
  }

  /** The query string without the leading "?" ("" if none), still percent-encoded. */
  get query(): string {
    let q = min(this.path1 + 1, this.query1);
    return readUtf8(changetype<usize>(this.input) + <usize>q, this.query1 - q);
  }

  /** The request headers, in order; names are lower-case. */
  get headers(): Headers {
    let headers = this.cachedHeaders;
    if (headers === null) {
      headers = new Headers();
      let at = this.headersAt + 4;
      let lines = this.bodyAt - at; // (checks that the headers fit)
      headers.lines.bytes(changetype<usize>(this.input) + <usize>at, lines);
      headers.count = load<i32>(changetype<usize>(this.input) + <usize>this.headersAt);
      this.cachedHeaders = headers;
    }
    return headers;
  }

  /** Where the body field begins (after the headers, which are skipped the first time). */
  private get bodyAt(): i32 {
    let at = this.bodyStart;
    if (at == 0) {
      let input = this.input;
      let headersAt = this.headersAt;
      if (headersAt + 4 > input.byteLength) fail(MALFORMED);
      at = headersAt + 4;
      for (let i = load<u32>(changetype<usize>(input) + <usize>headersAt); i > 0; i--) at = skipField(input, skipField(input, at));
      if (skipField(input, at) != input.byteLength) fail(MALFORMED);
      this.bodyStart = at;
    }
    return at;
  }

  /** Length of the body in bytes. */
  get bodyLength(): i32 {
    return load<i32>(changetype<usize>(this.input) + <usize>this.bodyAt);
  }

  /** The raw request body (a view into the request's bytes). */
  bytes(): Uint8Array {
    let at = this.bodyAt;
    return Uint8Array.wrap(this.input, at + 4, load<i32>(changetype<usize>(this.input) + <usize>at));
  }

  /** The request body decoded as UTF-8. */
  text(): string {
    let p = changetype<usize>(this.input) + <usize>this.bodyAt;
    return readUtf8(p + 4, load<i32>(p));
  }

  /** The body parsed as JSON, or null unless it is exactly one valid JSON value. */
  json(): JsonValue | null {
    return JsonValue.parse(this.text());
  }
}

// ---- Response --------------------------------------------------------------------------------

/** An outgoing HTTP response. */
export class Response {
  /** HTTP status code, 200-599 (the host refuses 1xx). */
  status: i32;
  /** Response headers. The host sets content-length itself. */
  readonly headers: Headers = new Headers();
  /** The body bytes. */
  body: ByteBuffer;

  /** A response with a UTF-8 text body (no content-type unless you set one) and a status. */
  constructor(body: string | null = null, status: i32 = 200) {
    this.status = status;
    this.body = body !== null ? utf8(body) : new ByteBuffer(0);
  }

  /**
   * A text body with content-type "text/plain; charset=utf-8": a string, or UTF-8 bytes
   * (`lit("ok")`, a ByteBuffer).
   */
  static text<T>(body: T, status: i32 = 200): Response {
    return Response.of(body, status, lit("text/plain; charset=utf-8"));
  }

  /**
   * A JSON body with content-type "application/json": a JsonObject or JsonArray you built, a
   * JsonValue you read, or JSON text: a string, or UTF-8 bytes (a ByteBuffer, e.g. built with
   * ByteBuffer#jsonUtf8, or `lit("{}")`).
   */
  static json<T>(value: T, status: i32 = 200): Response {
    if (value instanceof JsonObject || value instanceof JsonArray) {
      let res = Response.of(lit(""), status, lit("application/json"));
      value.writeTo(res.body);
      return res;
    } else if (value instanceof JsonValue) {
      return Response.of(value.raw(), status, lit("application/json"));
    } else if (isString<T>() || isInteger<T>() || value instanceof ByteBuffer) {
      return Response.of(value, status, lit("application/json"));
    } else {
      ERROR("Response.json takes a JsonObject, a JsonArray, a JsonValue or JSON text (a string, a ByteBuffer, a Utf8)");
      return changetype<Response>(0);
    }
  }

  /** An HTML body with content-type "text/html; charset=utf-8" (a string or UTF-8 bytes). */
  static html<T>(html: T, status: i32 = 200): Response {
    return Response.of(html, status, lit("text/html; charset=utf-8"));
  }

  /** A binary body with the given content-type. */
  static bytes(body: Uint8Array, status: i32 = 200, contentType: string = "application/octet-stream"): Response {
    let res = new Response(null, status);
    res.body.bytes(body.dataStart, body.length);
    return res.appendHeader("content-type", contentType);
  }

  /** 404 with the text "not found". */
  static notFound(): Response {
    return Response.text(lit("not found"), 404);
  }

  /** 405 with the text "method not allowed" and an `allow` header. */
  static methodNotAllowed(allow: string): Response {
    return Response.text(lit("method not allowed"), 405).appendHeader("allow", allow);
  }

  /** A redirect to `location` (302 unless given). */
  static redirect(location: string, status: i32 = 302): Response {
    return new Response(null, status).appendHeader("location", location);
  }

  /** A response with `body` (a string, a ByteBuffer or a Utf8) and one content-type line. */
  private static of<T>(body: T, status: i32, contentType: Utf8): Response {
    let res = new Response(null, status);
    if (isString<T>()) res.body = utf8(changetype<string>(body));
    else if (isInteger<T>()) res.body.utf8(<Utf8>body);
    else if (idof<T>() == idof<ByteBuffer>()) res.body = changetype<ByteBuffer>(body); // as it is, not copied
    else ERROR("a body is a string, a ByteBuffer or a Utf8 (lit(\"...\"))");
    res.headers.add(CONTENT_TYPE, contentType);
    return res;
  }

  /** Sets header `name`, replacing any lines of it; returns this (for chaining). */
  setHeader(name: string, value: string): Response {
    this.headers.set(name, value);
    return this;
  }

  /** Adds a line of header `name`; returns this (for chaining). */
  appendHeader(name: string, value: string): Response {
    this.headers.append(name, value);
    return this;
  }

  /**
   * The wire encoding of this response. The host checks it (status 200-599; header names are
   * HTTP tokens; no control character but tab in a value) and answers 500 for one that is not
   * valid, logging the reason. See ABI.md for what the host changes before sending it.
   */
  encode(): ByteBuffer {
    let body = this.body;
    let lines = this.headers.lines;
    return new ByteBuffer(lines.length + body.length + 12)
      .u32(this.status).u32(this.headers.count).append(lines)
      .u32(body.length).append(body);
  }
}
