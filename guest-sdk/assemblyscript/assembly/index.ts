// edgehost-sdk: the AssemblyScript side of the edgehost guest ABI v1 (guest-sdk/ABI.md).
//
//   import { Request, Response, onFetch } from "edgehost-sdk/assembly";
//   export { edgehost_fetch } from "edgehost-sdk/assembly";
//
//   onFetch((req: Request): Response => Response.text("hello\n"));
//
// Build with `edgehost-asc` (bin/edgehost-asc.js), which sets the flags this SDK relies on
// and runs the actor transform (transform/actors.js).
//
// Nothing here runs code at start-up or allocates unless it is used: a module that imports
// the SDK but uses no actor API carries none of it.

import "./abort"; // edgehost_abort / edgehost_trace / edgehost_seed, the targets of --use

export { Header, Request, Response } from "./http";
export { Handler, onFetch, serve, readRequest, writeResponse, edgehost_fetch } from "./fetch";
export { log } from "./log";
export { env, nowMs, randomBytes } from "./env";
export { jsonString, JsonObject, JsonArray } from "./json";
export { JsonValue, JsonKind } from "./jsonread";
export { match, RouteParams } from "./router";
export { StatefulActor, ActorContext, JsonText } from "./actor";
export { Storage, Transaction, ListOptions, StorageEntry } from "./storage";
export { binding, ActorNamespace, ActorStub, ActorResult } from "./stub";
