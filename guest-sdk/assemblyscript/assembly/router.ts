// Path patterns for handlers (AssemblyScript has no RegExp):
//
//   let m = match("/accounts/:id/deposit", req.path);
//   if (m !== null && req.method == "POST") return deposit(m.get("id"));
//
// A pattern is a path of literal segments and `:name` segments. A `:name` segment matches one
// non-empty path segment, percent-decoded ("a%20b" gives "a b"). Everything else must match
// exactly: no trailing-slash folding, no wildcards.
//
// For more than a few routes, `Router` keeps them in a table:
//
//   const router = new Router()
//     .get("/accounts/:id/balance", balance)        // function balance(req: Request, params: RouteParams): Response
//     .post("/accounts/:id/deposit", deposit);
//   export function fetch(req: Request): Response { return router.handle(req); }

import { ByteBuffer } from "./bytes";
import { Request, Response } from "./http";

class Param {
  constructor(
    public pattern: string, // the name is pattern[start, end)
    public start: i32,
    public end: i32,
    public value: string,
    public next: Param | null
  ) {}
}

/** The `:name` segments a path matched, by name. */
export class RouteParams {
  private first: Param | null = null;

  /** The value of parameter `name` ("" if the pattern has no such parameter). */
  get(name: string): string {
    let p = this.first;
    while (p !== null) {
      let i = p.start;
      if (p.end - i == name.length) {
        while (i < p.end && p.pattern.charCodeAt(i) == name.charCodeAt(i - p.start)) i++;
        if (i == p.end) return p.value;
      }
      p = p.next;
    }
    return "";
  }

  /** @hidden */
  add(pattern: string, start: i32, end: i32, value: string): void {
    this.first = new Param(pattern, start, end, value, this.first);
  }
}

/** Index of the "/" that ends the segment of `s` at `i`, or the length of `s`. */
function segmentEnd(s: string, i: i32): i32 {
  let n = s.length;
  while (i < n && s.charCodeAt(i) != 0x2f) i++;
  return i;
}

/** Matches `path` against `pattern`; the parameters if it matches, else null. */
export function match(pattern: string, path: string): RouteParams | null {
  let params = new RouteParams();
  let i = 0; // in pattern
  let j = 0; // in path
  let n = pattern.length;
  while (i < n) {
    let c = pattern.charCodeAt(i);
    if (c == 0x3a && (i == 0 || pattern.charCodeAt(i - 1) == 0x2f)) { // ":name" segment
      let pe = segmentEnd(pattern, i);
      let se = segmentEnd(path, j);
      if (se == j) return null;
      params.add(pattern, i + 1, pe, percentDecode(path, j, se));
      i = pe;
      j = se;
    } else {
      if (path.charCodeAt(j) != c) return null;
      i++;
      j++;
    }
  }
  return j == path.length ? params : null;
}

function hexDigit(c: i32): i32 {
  if (<u32>(c - 0x30) < 10) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** s[start, end) with %XX escapes decoded as UTF-8; a malformed escape is kept as is. */
function percentDecode(s: string, start: i32, end: i32): string {
  let out = new ByteBuffer(end - start);
  let run = start; // start of the characters not written yet
  let base = changetype<usize>(s);
  for (let i = start; i + 2 < end; i++) {
    if (s.charCodeAt(i) != 0x25) continue;
    let hi = hexDigit(s.charCodeAt(i + 1));
    let lo = hexDigit(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    out.units(base + (<usize>run << 1), i - run).byte(hi << 4 | lo);
    i += 2;
    run = i + 1;
  }
  return out.units(base + (<usize>run << 1), end - run).toString();
}

// ---- Router ----------------------------------------------------------------------------------

/** A route handler: a top-level function (or a non-capturing arrow function). */
export type RouteHandler = (req: Request, params: RouteParams) => Response;

class Route {
  constructor(
    public method: string | null,
    public pattern: string,
    public handler: RouteHandler,
    public next: Route | null
  ) {}
}

/**
 * A table of routes, tried in the order they were added. `handle` answers 404 when no pattern
 * matches the path, and 405 (with `allow`) when patterns match but not for the request's method.
 */
export class Router {
  private first: Route | null = null;
  private last: Route | null = null;

  /** Adds a route for `method` ("GET", "POST", ...; null for any method). Returns this. */
  on(method: string | null, pattern: string, handler: RouteHandler): Router {
    let r = new Route(method, pattern, handler, null);
    let last = this.last;
    if (last === null) this.first = r;
    else last.next = r;
    this.last = r;
    return this;
  }

  /** Adds a GET route. */
  get(pattern: string, handler: RouteHandler): Router { return this.on("GET", pattern, handler); }
  /** Adds a POST route. */
  post(pattern: string, handler: RouteHandler): Router { return this.on("POST", pattern, handler); }
  /** Adds a PUT route. */
  put(pattern: string, handler: RouteHandler): Router { return this.on("PUT", pattern, handler); }
  /** Adds a DELETE route. */
  delete(pattern: string, handler: RouteHandler): Router { return this.on("DELETE", pattern, handler); }
  /** Adds a route for any method. */
  all(pattern: string, handler: RouteHandler): Router { return this.on(null, pattern, handler); }

  /** Runs the handler of the first route that matches `req`. */
  handle(req: Request): Response {
    let path = req.path;
    let method = req.method;
    let allow = "";
    let r = this.first;
    while (r !== null) {
      let params = match(r.pattern, path);
      if (params !== null) {
        let m = r.method;
        if (m === null || m == method) return r.handler(req, params);
        allow += (allow.length ? ", " : "") + m;
      }
      r = r.next;
    }
    return allow.length ? Response.methodNotAllowed(allow) : Response.notFound();
  }
}
