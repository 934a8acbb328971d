// The HTTP entry point. The host calls the guest export `edgehost_fetch(): i32` once per
// request, in a fresh instance: read the encoded request with input_len/input_read, run the
// handler, write the encoded response with output_write, return 0.
//
// A user module either registers its handler at top level and re-exports the entry point:
//
//   import { Request, Response, onFetch } from "edgehost-sdk/assembly";
//   export { edgehost_fetch } from "edgehost-sdk/assembly";
//   onFetch((req: Request): Response => Response.text("hi\n"));
//
// or writes the export itself:
//
//   export function edgehost_fetch(): i32 { return serve(handle); }

import { input_len, input_read, output_write, TOO_LARGE } from "./abi";
import { Request, Response } from "./http";
import { decimal } from "./util";

/** A request handler: a top-level function or a non-capturing arrow function. */
export type Handler = (req: Request) => Response;

let registered: Handler | null = null;

/** Registers the module's request handler (call it once, at the top level of the entry file). */
export function onFetch(handler: Handler): void {
  registered = handler;
}

/** Reads the current request from the host. */
export function readRequest(): Request {
  let len = input_len();
  if (len < 0) abort("input_len failed: " + decimal(len));
  let buf = new Uint8Array(len);
  let got = input_read(<i32>buf.dataStart, len);
  if (got != len) abort("input_read returned " + decimal(got) + ", expected " + decimal(len));
  return Request.decode(buf);
}

/** Encodes `res` and hands it to the host as this invocation's output. */
export function writeResponse(res: Response): void {
  let out = res.encode();
  let rc = output_write(<i32>out.dataStart, out.length);
  if (rc == TOO_LARGE) abort("response too large (" + decimal(out.length) + " bytes encoded)");
  if (rc < 0) abort("output_write failed: " + decimal(rc));
}

/** Runs one request through `handler`: read, handle, write. Returns 0 (the ABI's success). */
export function serve(handler: Handler): i32 {
  writeResponse(handler(readRequest()));
  return 0;
}

/** The guest export the host calls; re-export it from your entry file. Uses the onFetch handler. */
export function edgehost_fetch(): i32 {
  let handler = registered;
  if (handler === null) {
    abort("no fetch handler: call onFetch(handler) at the top level of the entry file");
    return 1;
  }
  return serve(handler);
}
