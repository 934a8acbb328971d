// HTTP request/response types and their wire encoding (guest-sdk/ABI.md, "Wire encoding"):
//
//   request  = method:str  url:str  headers  body:bytes
//   response = status:u32  headers  body:bytes
//   headers  = count:u32  (name:str value:str){count}
//
// u32 are little-endian (as is wasm memory); str/bytes are a u32 length plus that many bytes.

import { utf8, fromUtf8, asciiLower, decimal } from "./util";

/** One header line. Request header names are lower-case; a repeated header appears once per value. */
export class Header {
  constructor(public name: string, public value: string) {}
}

/** An incoming HTTP request, decoded from the invocation input. */
export class Request {
  /** Upper-case method: "GET", "POST", ... */
  readonly method: string;
  /** Absolute URL as the function sees it: "http://{host}{path}?{query}". */
  readonly url: string;
  /** The path part of `url`, starting with "/" (e.g. "/echo"), still percent-encoded. */
  readonly path: string;
  /** The query string without the leading "?" ("" if none), still percent-encoded. */
  readonly query: string;
  /** All headers in request order; names are lower-case. */
  readonly headers: Header[];
  private readonly body: Uint8Array;

  constructor(method: string, url: string, headers: Header[], body: Uint8Array) {
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.body = body;
    // url = scheme "://" authority [path] ["?" query] ["#" fragment]
    let end = url.indexOf("#");
    if (end < 0) end = url.length;
    let q = url.indexOf("?");
    if (q < 0 || q > end) q = end;
    let start = 0;
    let scheme = url.indexOf("://");
    if (scheme >= 0 && scheme < q) {
      start = url.indexOf("/", scheme + 3);
      if (start < 0 || start > q) start = q; // no path: "http://host?x"
    }
    this.path = start < q ? url.substring(start, q) : "/";
    this.query = q < end ? url.substring(q + 1, end) : "";
  }

  /** The first value of header `name` (case-insensitive), or null. */
  header(name: string): string | null {
    let lower = asciiLower(name);
    let headers = this.headers;
    for (let i = 0, n = headers.length; i < n; i++) {
      let h = unchecked(headers[i]);
      if (h.name == lower) return h.value;
    }
    return null;
  }

  /** Every value of header `name` (case-insensitive), in request order. */
  headerAll(name: string): string[] {
    let lower = asciiLower(name);
    let out = new Array<string>();
    let headers = this.headers;
    for (let i = 0, n = headers.length; i < n; i++) {
      let h = unchecked(headers[i]);
      if (h.name == lower) out.push(h.value);
    }
    return out;
  }

  /** The raw request body. */
  bytes(): Uint8Array {
    return this.body;
  }

  /** The request body decoded as UTF-8. */
  text(): string {
    return fromUtf8(this.body.dataStart, <usize>this.body.byteLength);
  }

  /** Decodes an encoded request held in `buf` (aborts on malformed input). */
  static decode(buf: Uint8Array): Request {
    let r = new WireReader(buf);
    let method = r.str();
    let url = r.str();
    let count = r.u32();
    let headers = new Array<Header>();
    for (let i: u32 = 0; i < count; i++) {
      let name = r.str();
      let value = r.str();
      headers.push(new Header(name, value));
    }
    let bodyLen = r.u32();
    let body = buf.subarray(r.offset, r.take(bodyLen));
    if (r.offset != buf.length) abort("malformed request: trailing bytes");
    return new Request(method, url, headers, body);
  }
}

/** An outgoing HTTP response. Build one with a helper (`Response.text(...)`) or the constructor. */
export class Response {
  /** HTTP status code, 100-599. */
  status: i32;
  /** Response headers in order. The host sets content-length itself. */
  headers: Header[] = [];
  /** Response body bytes. */
  body: Uint8Array;

  constructor(status: i32 = 200, body: Uint8Array | null = null) {
    this.status = status;
    this.body = body !== null ? body : new Uint8Array(0);
  }

  /** A UTF-8 text body with content-type "text/plain; charset=utf-8". */
  static text(body: string, status: i32 = 200): Response {
    return new Response(status, Uint8Array.wrap(utf8(body)))
      .appendHeader("content-type", "text/plain; charset=utf-8");
  }

  /** An already-serialized JSON body with content-type "application/json". */
  static json(json: string, status: i32 = 200): Response {
    return new Response(status, Uint8Array.wrap(utf8(json)))
      .appendHeader("content-type", "application/json");
  }

  /** An HTML body with content-type "text/html; charset=utf-8". */
  static html(html: string, status: i32 = 200): Response {
    return new Response(status, Uint8Array.wrap(utf8(html)))
      .appendHeader("content-type", "text/html; charset=utf-8");
  }

  /** A binary body with the given content-type. */
  static bytes(body: Uint8Array, status: i32 = 200, contentType: string = "application/octet-stream"): Response {
    return new Response(status, body).appendHeader("content-type", contentType);
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
    return new Response(status).appendHeader("location", location);
  }

  /** Sets header `name` (case-insensitive), replacing any existing values. Returns this. */
  setHeader(name: string, value: string): Response {
    let lower = asciiLower(name);
    let headers = this.headers;
    for (let i = headers.length - 1; i >= 0; i--) {
      if (asciiLower(unchecked(headers[i]).name) == lower) headers.splice(i, 1);
    }
    headers.push(new Header(name, value));
    return this;
  }

  /** Adds another value for header `name` (e.g. a second set-cookie). Returns this. */
  appendHeader(name: string, value: string): Response {
    this.headers.push(new Header(name, value));
    return this;
  }

  /** The wire encoding of this response (aborts if the status or a header is invalid). */
  encode(): Uint8Array {
    let status = this.status;
    if (status < 100 || status > 599) {
      abort("invalid response status " + decimal(status) + " (must be 100-599)");
    }
    let headers = this.headers;
    let n = headers.length;
    let encoded = new Array<ArrayBuffer>(n << 1);
    let size = 4 + 4 + 4 + this.body.length;
    for (let i = 0; i < n; i++) {
      let h = unchecked(headers[i]);
      let name = utf8(h.name);
      let value = utf8(h.value);
      checkHeaderText(name, h.name);
      checkHeaderText(value, h.name);
      unchecked(encoded[i << 1] = name);
      unchecked(encoded[(i << 1) + 1] = value);
      size += 8 + name.byteLength + value.byteLength;
    }
    let out = new Uint8Array(size);
    let p = out.dataStart;
    store<u32>(p, <u32>status); p += 4;
    store<u32>(p, <u32>n); p += 4;
    for (let i = 0, m = n << 1; i < m; i++) {
      p = putBytes(p, changetype<usize>(unchecked(encoded[i])), unchecked(encoded[i]).byteLength);
    }
    putBytes(p, this.body.dataStart, this.body.length);
    return out;
  }
}

function putBytes(p: usize, src: usize, len: i32): usize {
  store<u32>(p, <u32>len);
  memory.copy(p + 4, src, <usize>len);
  return p + 4 + <usize>len;
}

function checkHeaderText(bytes: ArrayBuffer, name: string): void {
  let p = changetype<usize>(bytes);
  for (let i = 0, n = bytes.byteLength; i < n; i++) {
    let c = load<u8>(p + <usize>i);
    if (c == 0 || c == 10 || c == 13) abort("invalid response header '" + name + "': contains CR, LF or NUL");
  }
}

/** Bounds-checked reader over the request encoding. */
class WireReader {
  offset: i32 = 0;
  constructor(private buf: Uint8Array) {}

  /** Advances by `len` bytes and returns the new offset. */
  take(len: u32): i32 {
    if (<u64>this.offset + <u64>len > <u64>this.buf.length) abort("malformed request: truncated");
    this.offset += <i32>len;
    return this.offset;
  }

  u32(): u32 {
    let at = this.offset;
    this.take(4);
    return load<u32>(this.buf.dataStart + <usize>at);
  }

  str(): string {
    let len = this.u32();
    let at = this.offset;
    this.take(len);
    return fromUtf8(this.buf.dataStart + <usize>at, <usize>len);
  }
}
