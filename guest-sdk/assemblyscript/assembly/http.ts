// HTTP request/response types and their wire encoding (guest-sdk/ABI.md, "Wire encoding"):
//
//   request  = method:str  url:str  headers  body:bytes
//   response = status:u32  headers  body:bytes
//   headers  = count:u32  (name:str value:str){count}
//
// u32 are little-endian (as is wasm memory); str/bytes are a u32 length plus that many bytes.
// A Request keeps the encoded bytes and decodes a part (headers, query, body text) only when
// it is read; a Response is written to the host in one piece.

import { ByteBuffer, readUtf8, utf8 } from "./bytes";
import { equalsIgnoreCase } from "./util";
import { JsonObject, JsonArray } from "./json";
import { JsonValue } from "./jsonread";

/** One header line. */
export class Header {
  /** @hidden The next header of the list. */
  next: Header | null = null;
  constructor(
    /** The name as given (request header names are lower-case). */
    public name: string,
    public value: string
  ) {}
}

/** An ordered list of header lines, looked up case-insensitively, like the platform's `Headers`. */
export class Headers {
  /** @hidden */
  first: Header | null = null;
  private last: Header | null = null;

  /** The first value of header `name` (case-insensitive), or null. */
  get(name: string): string | null {
    let h = this.first;
    while (h !== null) {
      if (equalsIgnoreCase(h.name, name)) return h.value;
      h = h.next;
    }
    return null;
  }

  /** Every value of header `name`, in order (a repeated header appears once per value). */
  getAll(name: string): string[] {
    let out = new Array<string>();
    let h = this.first;
    while (h !== null) {
      if (equalsIgnoreCase(h.name, name)) out.push(h.value);
      h = h.next;
    }
    return out;
  }

  /** True if header `name` is present. */
  has(name: string): bool {
    return this.get(name) !== null;
  }

  /** Adds a line `name: value` after the others (e.g. a second set-cookie). */
  append(name: string, value: string): void {
    let h = new Header(name, value);
    let last = this.last;
    if (last === null) this.first = h;
    else last.next = h;
    this.last = h;
  }

  /** Removes every line of header `name`. */
  delete(name: string): void {
    let prev: Header | null = null;
    let h = this.first;
    while (h !== null) {
      let next = h.next;
      if (equalsIgnoreCase(h.name, name)) {
        if (prev === null) this.first = next;
        else prev.next = next;
      } else {
        prev = h;
      }
      h = next;
    }
    this.last = prev;
  }

  /** Replaces every line of header `name` with one `name: value`. */
  set(name: string, value: string): void {
    this.delete(name);
    this.append(name, value);
  }

  /** All lines, in order. */
  entries(): Header[] {
    let out = new Array<Header>();
    let h = this.first;
    while (h !== null) {
      out.push(h);
      h = h.next;
    }
    return out;
  }
}

// ---- Request ---------------------------------------------------------------------------------

/** Index of byte `c` in [from, to) of `base`, or `to`. */
function find(base: usize, from: i32, to: i32, c: u32): i32 {
  while (from < to && <u32>load<u8>(base + <usize>from) != c) from++;
  return from;
}

/** Offset just past the wire `str` at offset `at` of `input` (aborts if it does not fit). */
function skipField(input: ArrayBuffer, at: i32): i32 {
  let left = input.byteLength - at - 4; // at <= byteLength: it is the end of the previous field
  if (left < 0 || load<u32>(changetype<usize>(input) + <usize>at) > <u32>left) abort("malformed input");
  return at + 4 + load<i32>(changetype<usize>(input) + <usize>at);
}

/**
 * True if the `len` bytes at `p` are the characters [from, to) of `s`, which must be ASCII (a
 * non-ASCII character never matches). Compares without decoding: see Request#methodIs, #pathIs.
 */
function asciiEquals(p: usize, len: i32, s: string, from: i32, to: i32): bool {
  if (len != to - from) return false;
  let q = changetype<usize>(s) + (<usize>from << 1);
  for (let end = p + <usize>len; p < end; p++, q += 2) {
    let c = <u32>load<u16>(q);
    if (c != <u32>load<u8>(p) || c >= 0x80) return false;
  }
  return true;
}

/** An incoming HTTP request. */
export class Request {
  private path0: i32;     // the path is [path0, path1) of `input`
  private path1: i32;
  private query1: i32;    // the query is [path1 + 1, query1) (empty if there is no "?")
  private headersAt: i32; // also where the url ends
  private bodyStart: i32 = 0; // where the body field begins; 0 until the headers were skipped
  private cachedHeaders: Headers | null = null;

  /** @hidden Decodes an encoded request (aborts if it is malformed). Use `readRequest()`. */
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

  /** True if the method is `method` ("GET"), compared as bytes: cheaper than `req.method == "GET"`. */
  methodIs(method: string): bool {
    return asciiEquals(changetype<usize>(this.input) + 4, load<i32>(changetype<usize>(this.input)), method, 0, method.length);
  }

  /**
   * True if the path is exactly `path` (ASCII, still percent-encoded: "/health"), compared as
   * bytes: cheaper than `req.path == "/health"`, which decodes the path to a string first.
   */
  pathIs(path: string): bool {
    let n = this.path1 - this.path0;
    if (n == 0) return path.length == 1 && load<u16>(changetype<usize>(path)) == 0x2f; // (no path: "/")
    return asciiEquals(changetype<usize>(this.input) + <usize>this.path0, n, path, 0, path.length);
  }

  /**
   * The byte-level counterpart of `match(pattern, req.path)` for a pattern with one `:name`
   * segment: `req.param("/accounts/:id/balance")` gives the `:id` segment of the path,
   * percent-decoded, as UTF-8 bytes (null if the path does not match). The pattern is ASCII.
   * It neither decodes the path nor builds strings, for the smallest modules; `match` is
   * the general form.
   */
  param(pattern: string): ByteBuffer | null {
    let pat = changetype<usize>(pattern);
    let patEnd = pat + (<usize>pattern.length << 1);
    let colon = pat; // the ":" of the pattern
    while (colon < patEnd && load<u16>(colon) != 0x3a) colon += 2;
    let rest = colon; // where the pattern's :name segment ends
    while (rest < patEnd && load<u16>(rest) != 0x2f) rest += 2;
    let p = changetype<usize>(this.input) + <usize>this.path0;
    let end = changetype<usize>(this.input) + <usize>this.path1;
    let i = <i32>(colon - pat) >> 1;
    if (!asciiEquals(p, min(i, <i32>(end - p)), pattern, 0, i)) return null;
    p += <usize>i;
    let s = p; // the segment is [s, p)
    while (p < end && load<u8>(p) != 0x2f) p++;
    if (p == s || !asciiEquals(p, <i32>(end - p), pattern, <i32>(rest - pat) >> 1, pattern.length)) return null;
    return new ByteBuffer(<i32>(p - s)).percentDecoded(s, <i32>(p - s));
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
      if (this.bodyAt == 0) abort("malformed input"); // (checks that the headers fit)
      let base = changetype<usize>(this.input);
      let at = this.headersAt + 4;
      for (let i = load<u32>(base + <usize>this.headersAt); i > 0; i--) {
        let v = skipField(this.input, at);
        let next = skipField(this.input, v);
        headers.append(readUtf8(base + <usize>at + 4, v - at - 4), readUtf8(base + <usize>v + 4, next - v - 4));
        at = next;
      }
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
      if (headersAt + 4 > input.byteLength) abort("malformed input");
      at = headersAt + 4;
      for (let i = load<u32>(changetype<usize>(input) + <usize>headersAt); i > 0; i--) at = skipField(input, skipField(input, at));
      if (skipField(input, at) != input.byteLength) abort("malformed input");
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
  /** HTTP status code, 100-599. */
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

  /** A text body with content-type "text/plain; charset=utf-8". */
  static text(body: string, status: i32 = 200): Response {
    return new Response(body, status).appendHeader("content-type", "text/plain; charset=utf-8");
  }

  /**
   * A JSON body with content-type "application/json": a JsonObject or JsonArray you built, a
   * JsonValue you read, or a string or a ByteBuffer (UTF-8) that already holds JSON text.
   */
  static json<T>(value: T, status: i32 = 200): Response {
    let res = new Response(null, status);
    let body = res.body;
    if (isString<T>()) {
      body.str(changetype<string>(value));
    } else if (value instanceof ByteBuffer) {
      res.body = value; // JSON text as UTF-8 bytes (e.g. built with ByteBuffer#jsonUtf8)
    } else if (value instanceof JsonObject || value instanceof JsonArray) {
      value.writeTo(body);
    } else if (value instanceof JsonValue) {
      body.str(value.raw());
    } else {
      ERROR("Response.json takes a JsonObject, a JsonArray, a JsonValue or JSON text (string)");
    }
    return res.appendHeader("content-type", "application/json");
  }

  /** An HTML body with content-type "text/html; charset=utf-8". */
  static html(html: string, status: i32 = 200): Response {
    return new Response(html, status).appendHeader("content-type", "text/html; charset=utf-8");
  }

  /** A binary body with the given content-type. */
  static bytes(body: Uint8Array, status: i32 = 200, contentType: string = "application/octet-stream"): Response {
    let res = new Response(null, status);
    res.body.bytes(body.dataStart, body.length);
    return res.appendHeader("content-type", contentType);
  }

  /** 404 with the text "not found". */
  static notFound(): Response {
    return Response.text("not found", 404);
  }

  /** 405 with the text "method not allowed" and an `allow` header. */
  static methodNotAllowed(allow: string): Response {
    return Response.text("method not allowed", 405).appendHeader("allow", allow);
  }

  /** A redirect to `location` (302 unless given). */
  static redirect(location: string, status: i32 = 302): Response {
    return new Response(null, status).appendHeader("location", location);
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
   * The wire encoding of this response. The host checks it (status 100-599; no CR, LF or NUL
   * in a header) and answers 500 for one that is not valid, logging the reason.
   */
  encode(): ByteBuffer {
    let body = this.body;
    let out = new ByteBuffer(body.length + 256).u32(this.status).u32(0);
    let count = 0;
    let h = this.headers.first;
    while (h !== null) {
      out.wireStr(h.name).wireStr(h.value);
      count++;
      h = h.next;
    }
    store<u32>(out.dataStart + 4, count);
    return out.u32(body.length).bytes(body.dataStart, body.length);
  }
}
