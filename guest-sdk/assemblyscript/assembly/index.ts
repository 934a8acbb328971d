// edgehost-sdk: the AssemblyScript side of the edgehost guest ABI v1 (guest-sdk/ABI.md).
//
//   import { Request, Response } from "edgehost-sdk/assembly";
//   export function fetch(req: Request): Response { return Response.text("hello\n"); }
//
// Build with `edgehost-asc` (bin/edgehost-asc.js), which sets the flags this SDK relies on
// and runs the build transform (transform/actors.js): it generates the module's exports
// (`edgehost_fetch` for the exported `fetch`, the actor entry points for actor classes).
//
// Nothing here runs code at start-up or allocates unless it is used, and the compiler only
// includes what is reachable: a module that uses no actor API carries none of it.

import "./abort"; // edgehost_abort / edgehost_trace / edgehost_seed, the targets of --use
export { fail } from "./abort";

export { Header, Headers, Request, Response } from "./http";
export { Handler, onFetch, serve, readRequest, writeResponse, edgehost_fetch } from "./fetch";
export { log } from "./log";
export { envVar, nowMs, randomBytes } from "./env";
export { jsonString, writeJson, JsonObject, JsonArray, JsonText } from "./json";
export { JsonValue, JsonKind } from "./jsonread";
export { match, RouteParams, Router, RouteHandler } from "./router";
export { StatefulActor, ActorContext } from "./actor";
export { Storage, Transaction, ListOptions, StorageEntry } from "./storage";
export { binding, ActorNamespace, ActorStub, ActorResult, ActorOutcome, ActorError, ActorJsonResult } from "./stub";
export { ByteBuffer, Utf8, lit, utf8Of, utf8Span, utf8Ptr, utf8Len } from "./bytes";
