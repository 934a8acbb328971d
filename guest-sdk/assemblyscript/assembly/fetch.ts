// The HTTP entry point. The host calls the guest export `edgehost_fetch(): i32` once per
// request, in a fresh instance: read the encoded request with input_len/input_read, run the
// handler, write the encoded response with output_write, return 0.
//
// Write the handler as an exported function of the entry file; the build (transform/actors.js)
// generates the `edgehost_fetch` export that calls it:
//
//   import { Request, Response } from "edgehost-sdk/assembly";
//   export function fetch(req: Request): Response { return Response.text("hi\n"); }
//
// Or register it at top level and re-export the SDK's entry point:
//
//   onFetch((req: Request): Response => Response.text("hi\n"));
//   export { edgehost_fetch } from "edgehost-sdk/assembly";

import { input_len, input_read, output_write } from "./abi";
import { Request, Response } from "./http";
import { lit } from "./bytes";
import { fail } from "./abort";

/** A request handler: a top-level function or a non-capturing arrow function. */
export type Handler = (req: Request) => Response;

let registered: Handler | null = null;

/** Registers the module's request handler (call it once, at the top level of the entry file). */
export function onFetch(handler: Handler): void {
  registered = handler;
}

/** The current invocation's input bytes. */
export function readInput(): ArrayBuffer {
  let len = input_len();
  let buf = changetype<ArrayBuffer>(__new(<usize>max(len, 0), idof<ArrayBuffer>()));
  if (len < 0 || input_read(changetype<i32>(buf), len) != len) fail(lit("malformed input"));
  return buf;
}

/** Reads the current request from the host. */
export function readRequest(): Request {
  return new Request(readInput());
}

/** Encodes `res` and hands it to the host as this invocation's output. */
export function writeResponse(res: Response): void {
  let out = res.encode();
  if (output_write(<i32>out.dataStart, out.length) < 0) fail(lit("response too large"));
}

/** Runs one request through `handler`: read, handle, write. Returns 0 (the ABI's success). */
export function serve(handler: Handler): i32 {
  writeResponse(handler(readRequest()));
  return 0;
}

/** The guest export the host calls, for a handler registered with `onFetch`. */
export function edgehost_fetch(): i32 {
  let handler = registered;
  if (handler === null) {
    fail(lit("no fetch handler: export function fetch(req: Request): Response"));
    return 1;
  }
  return serve(handler);
}
