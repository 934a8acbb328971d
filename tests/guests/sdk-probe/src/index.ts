// The SDK probe: a test guest whose routes exercise the edgehost AssemblyScript SDK and answer
// JSON that tests/sdk/test_sdk_probe.py checks against the real host. It is not an example:
// every route exists to make one SDK behaviour observable over HTTP.
//
// Actor routes answer 200 with the call's outcome, {"ok": bool, "value": ..., "error": null |
// {"name", "message"}}, whatever the outcome: an actor error is a value the caller inspects,
// never a trap of the caller. Build: `npm run build` (edgehost-asc) -> build/sdk-probe.wasm;
// `npm run types` regenerates src/env.ts from edgehost-types.json.
import {
  Request, Response, Router, RouteParams, JsonObject, JsonArray, JsonValue, JsonText,
  ActorOutcome, ActorResult, ActorError, binding, envVar, log, nowMs, randomBytes, ByteBuffer,
  Utf8, lit, lit as literal,
} from "edgehost-sdk/assembly";
import { env } from "./env";
import { tricky } from "./probe";
import { ownLit } from "./own_lit";
// Exporting the classes ships them: this function owns Probe and Booted.
export { Probe, Booted } from "./probe";

export function fetch(req: Request): Response {
  // Built per request, not at module level: module-level objects would cost the arena mode.
  return new Router()
    // actors: identity, storage, transactions, failures, typed and untyped stubs
    .get("/whoami/:name", whoami)
    .get("/peer/:name/:other", peer)
    .get("/deadlock/:name", deadlock)
    .get("/unique", unique)
    .get("/boots/:name", boots)
    .post("/storage/:name/typed", putTyped)
    .get("/storage/:name/typed", getTyped)
    .post("/storage/:name/own-writes", readOwnWrites)
    .put("/storage/:name/keys/:key", setKey)
    .get("/storage/:name/keys/:key", readKey)
    .delete("/storage/:name/keys/:key", removeKey)
    .post("/storage/:name/seed", seed)
    .post("/storage/:name/list", list)
    .post("/storage/:name/wipe", wipe)
    .post("/storage/:name/transactions", transactions)
    .post("/fail/:name", fail)
    .get("/typed/:name", typed)
    .get("/u64/:name", u64Max)
    .post("/call/:binding/:name/:method", untypedCall)
    .all("/raw-call/:binding/:name", rawCall)
    // HTTP: request, response, router, environment, logs
    .all("/request", echoRequest)
    .all("/request/:rest", echoRequest)
    .post("/echo-bytes", echoBytes)
    .get("/response/:kind", response)
    .get("/params/:first/and/:second", params)
    .post("/only-post", onlyPost)
    .get("/env", envVars)
    .get("/log/:token", logLines)
    .get("/log-flood/:count", logFlood)
    .get("/abort", abortFetch)
    .get("/misc", misc)
    .get("/lit", literals)
    .get("/lit-text", litText)
    .get("/own-lit", (req: Request, p: RouteParams): Response => Response.text(ownLit()))
    .handle(req);
}

// ---- outcomes as JSON ----------------------------------------------------------------------

function errorJson(e: ActorError | null): string {
  return e === null ? "null" : new JsonObject().str("name", e.name).str("message", e.message).toString();
}

/** {"ok", "value", "error"} of a call with a result. */
function result<T>(r: ActorResult<T>): JsonObject {
  return new JsonObject().bool("ok", r.ok).set<T>("value", r.value).raw("error", errorJson(r.error));
}

/** {"ok", "error"} of a call without one. */
function outcome(r: ActorOutcome): JsonObject {
  return new JsonObject().bool("ok", r.ok).raw("error", errorJson(r.error));
}

// ---- actor routes --------------------------------------------------------------------------

function whoami(req: Request, p: RouteParams): Response {
  const stub = env.PROBE.idFromName(p.get("name"));
  return Response.json(result<string>(stub.whoami()).str("stub.id", stub.id));
}

function peer(req: Request, p: RouteParams): Response {
  return Response.json(result<string>(env.PROBE.idFromName(p.get("name")).callPeer(p.get("other"))));
}

function deadlock(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.PROBE.idFromName(p.get("name")).callSelf()));
}

/** Two fresh instances: their names, what each says it is, and that their storage is apart. */
function unique(req: Request, p: RouteParams): Response {
  const a = env.PROBE.newUniqueId();
  const b = env.PROBE.newUniqueId();
  a.set("mark", new JsonText("\"a\""));
  b.set("mark", new JsonText("\"b\""));
  return Response.json(new JsonObject()
    .str("a", a.id).str("b", b.id)
    .str("a.whoami", a.whoami().value).str("b.whoami", b.whoami().value)
    .set<string | null>("a.mark", a.read("mark").value)
    .set<string | null>("b.mark", b.read("mark").value));
}

function boots(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.BOOTED.idFromName(p.get("name")).boots()));
}

function putTyped(req: Request, p: RouteParams): Response {
  return Response.json(outcome(env.PROBE.idFromName(p.get("name")).putTyped()));
}

function getTyped(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.PROBE.idFromName(p.get("name")).getTyped()));
}

function readOwnWrites(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.PROBE.idFromName(p.get("name")).readOwnWrites()));
}

/** PUT: the body is the JSON value to store. */
function setKey(req: Request, p: RouteParams): Response {
  const stub = env.PROBE.idFromName(p.get("name"));
  return Response.json(outcome(stub.set(p.get("key"), new JsonText(req.text()))));
}

function readKey(req: Request, p: RouteParams): Response {
  return Response.json(result<string | null>(env.PROBE.idFromName(p.get("name")).read(p.get("key"))));
}

function removeKey(req: Request, p: RouteParams): Response {
  return Response.json(result<bool>(env.PROBE.idFromName(p.get("name")).remove(p.get("key"))));
}

/** The body is [[key, value], ...]. */
function seed(req: Request, p: RouteParams): Response {
  return Response.json(result<i32>(env.PROBE.idFromName(p.get("name")).seed(new JsonText(req.text()))));
}

/** The body is the list options object. */
function list(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.PROBE.idFromName(p.get("name")).listKeys(new JsonText(req.text()))));
}

function wipe(req: Request, p: RouteParams): Response {
  return Response.json(result<i32>(env.PROBE.idFromName(p.get("name")).wipe()));
}

function transactions(req: Request, p: RouteParams): Response {
  return Response.json(result<JsonValue>(env.PROBE.idFromName(p.get("name")).transactions()));
}

/** ?how=abort|throw|transaction|wipe|after-rollback|bad-key|nan|nan-f64|wrong-type; the body is the message. */
function fail(req: Request, p: RouteParams): Response {
  const stub = env.PROBE.idFromName(p.get("name"));
  const how = req.query;
  if (how == "how=abort") return Response.json(outcome(stub.fail(req.text())));
  if (how == "how=throw") return Response.json(outcome(stub.throwError(req.text())));
  if (how == "how=transaction") return Response.json(outcome(stub.abortInTransaction()));
  if (how == "how=wipe") return Response.json(outcome(stub.wipeAndFail()));
  if (how == "how=after-rollback") return Response.json(outcome(stub.useAfterRollback()));
  if (how == "how=bad-key") return Response.json(outcome(stub.badKey()));
  if (how == "how=nan") return Response.json(outcome(stub.putNaN()));
  if (how == "how=nan-f64") return Response.json(outcome(stub.putF64NaN()));
  if (how == "how=wrong-type") return Response.json(result<i64>(stub.wrongType()));
  return Response.json(new JsonObject().str("error", "unknown how: " + how), 400);
}

/** Every typed stub method once: each result type decoded by the SDK, re-encoded here. */
function typed(req: Request, p: RouteParams): Response {
  const s = env.PROBE.idFromName(p.get("name"));
  const o = new JsonObject();
  o.set<JsonObject>("bool", result<bool>(s.echoBool(true)));
  o.set<JsonObject>("i32", result<i32>(s.echoI32(-2147483648)));
  o.set<JsonObject>("i64 min", result<i64>(s.echoI64(-9223372036854775807 - 1)));
  o.set<JsonObject>("i64 max", result<i64>(s.echoI64(9223372036854775807)));
  o.set<JsonObject>("u8", result<u8>(s.echoU8(255)));
  o.set<JsonObject>("u64", result<u64>(s.echoU64(9223372036854775807)));
  o.set<JsonObject>("u64 max result", result<u64>(s.maxU64()));
  o.set<JsonObject>("f32", result<f32>(s.echoF32(0.5)));
  o.set<JsonObject>("f64", result<f64>(s.echoF64(-1.25e-7)));
  o.set<JsonObject>("f64 integral", result<f64>(s.echoF64(3.0)));
  o.set<JsonObject>("string", result<string>(s.echoString(tricky())));
  o.set<JsonObject>("maybe null", result<string | null>(s.echoMaybe(null)));
  o.set<JsonObject>("maybe string", result<string | null>(s.echoMaybe("x")));
  o.set<JsonObject>("json", result<JsonValue>(s.echoJson(new JsonText("{\"a\": [1, {\"b\": null}], \"c\": \"d\"}"))));
  o.set<JsonObject>("optional", result<string>(s.optional(1, 2, "w")));
  o.set<JsonObject>("void", outcome(s.touch()));
  o.set<JsonObject>("void wrote", result<string | null>(s.read("touched")));
  return Response.json(o);
}

/** u64 values above i64's range, as an argument and through storage (see the test's xfail). */
function u64Max(req: Request, p: RouteParams): Response {
  const s = env.PROBE.idFromName(p.get("name"));
  return Response.json(new JsonObject()
    .set<JsonObject>("echo max", result<u64>(s.echoU64(u64.MAX_VALUE)))
    .set<JsonObject>("store max", result<u64>(s.storeMaxU64())));
}

/**
 * The untyped stub: `binding(B).idFromName(name).call(method, body)`; an empty body calls
 * `call(method)`, whose default arguments are `[]`.
 */
function untypedCall(req: Request, p: RouteParams): Response {
  const stub = binding(p.get("binding")).idFromName(p.get("name"));
  const args = req.text();
  const r = args.length ? stub.call(p.get("method"), args) : stub.call(p.get("method"));
  return Response.json(result<JsonValue>(r));
}

// ---- HTTP routes ---------------------------------------------------------------------------

/** What the SDK reads from the request. Header names are looked up in mixed case on purpose. */
function echoRequest(req: Request, p: RouteParams): Response {
  const h = req.headers;
  const names = new JsonArray();
  const all = h.entries();
  for (let i = 0; i < all.length; i++) {
    if (all[i].name.startsWith("x-")) names.str(all[i].name);
  }
  const multi = new JsonArray();
  const values = h.getAll("X-MULTI");
  for (let i = 0; i < values.length; i++) multi.str(values[i]);
  const json = req.json();
  return Response.json(new JsonObject()
    .str("method", req.method)
    .str("path", req.path)
    .str("query", req.query)
    .str("url", req.url)
    .set<string | null>("X-Probe", h.get("X-Probe"))
    .set<string | null>("x-probe", h.get("x-probe"))
    .set<string | null>("X-Absent", h.get("X-Absent"))
    .bool("has X-PROBE", h.has("X-PROBE"))
    .bool("has X-Absent", h.has("X-Absent"))
    .raw("X-Multi", multi.toString())
    .raw("x- names", names.toString())
    .int("bodyLength", req.bodyLength)
    .int("bytes.length", req.bytes().length)
    .str("text", req.text())
    .raw("json", json !== null ? json.raw() : "null")
    .bool("json is object", json !== null && json.isObject())
    .int("json.n", json !== null ? json.getI64("n", -1) : -1)
    .set<string | null>("json.s", json !== null ? json.getString("s") : null));
}

/** The body back, byte for byte, under the request's content-type. */
function echoBytes(req: Request, p: RouteParams): Response {
  const type = req.headers.get("content-type");
  return Response.bytes(req.bytes(), 200, type !== null ? type : "application/octet-stream");
}

function response(req: Request, p: RouteParams): Response {
  const kind = p.get("kind");
  if (kind == "text") return Response.text("plain text é", 201);
  if (kind == "json") {
    return Response.json(new JsonObject()
      .str("s", tricky()).int("i", -42).num("f", 0.1).num("nan", NaN).num("whole", 2.0)
      .bool("b", false).null("n").raw("raw", "[1,2]")
      .set<JsonArray>("arr", new JsonArray().str("x").int(1).bool(true).null().add<f64>(1.5)), 202);
  }
  if (kind == "json-text") return Response.json("{\"already\":\"json\"}");
  if (kind == "json-value") return Response.json(JsonValue.parse(" [1, {\"k\": \"v\"}] ")!);
  if (kind == "html") return Response.html("<p>hi</p>");
  if (kind == "bytes") {
    const b = new Uint8Array(4);
    b[0] = 0; b[1] = 1; b[2] = 0x80; b[3] = 0xff;
    return Response.bytes(b, 200, "application/x-probe");
  }
  if (kind == "redirect") return Response.redirect("/elsewhere");
  if (kind == "redirect-301") return Response.redirect("https://example.com/", 301);
  if (kind == "not-found") return Response.notFound();
  if (kind == "not-allowed") return Response.methodNotAllowed("GET, POST");
  if (kind == "empty") return new Response();
  if (kind == "custom") {
    const res = new Response("teapot", 418)
      .setHeader("x-replaced", "old").setHeader("x-replaced", "new")
      .appendHeader("set-cookie", "a=1").appendHeader("set-cookie", "b=2")
      .appendHeader("x-deleted", "gone");
    res.headers.delete("X-Deleted"); // case-insensitive
    return res;
  }
  return Response.text("unknown kind " + kind, 400);
}

function params(req: Request, p: RouteParams): Response {
  return Response.json(new JsonObject()
    .str("first", p.get("first")).str("second", p.get("second")).str("unknown", p.get("unknown")));
}

function onlyPost(req: Request, p: RouteParams): Response {
  return Response.text("posted");
}

function envVars(req: Request, p: RouteParams): Response {
  return Response.json(new JsonObject()
    .set<string | null>("GREETING", envVar("GREETING"))
    .set<string | null>("UNICODE", envVar("UNICODE"))
    .set<string | null>("EMPTY", envVar("EMPTY"))
    .set<string | null>("UNSET", envVar("UNSET")));
}

/** One line per level from fetch, and one from inside an actor call; the return codes. */
function logLines(req: Request, p: RouteParams): Response {
  const token = p.get("token");
  const rcs = new JsonArray()
    .int(log.debug("debug " + token))
    .int(log.info("info " + token))
    .int(log.warn("warn " + token))
    .int(log.error("error " + token));
  const actor = env.PROBE.idFromName("logger").logLine(token);
  return Response.json(new JsonObject().raw("rcs", rcs.toString()).bool("actor ok", actor.ok));
}

/** `count` info lines: how many the host took (0) and the status of the first it refused. */
function logFlood(req: Request, p: RouteParams): Response {
  const count = I32.parseInt(p.get("count"));
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const rc = log.info("flood " + i.toString());
    if (rc == 0) accepted++;
    else if (refused == 0) refused = rc;
  }
  return Response.json(new JsonObject().int("accepted", accepted).int("first refusal", refused));
}

/** An abort in fetch itself: HTTP 500 with an error id; the message goes to the log. */
function abortFetch(req: Request, p: RouteParams): Response {
  abort("probe fetch abort");
  return Response.text("unreachable");
}

/**
 * The byte-level API: ?method, body = args. Answers {"name": the :name segment as req.param
 * gives it, "ok", "json": the result's JSON text or errorAs("error"), "GET"/"POST": methodIs,
 * "pathIs": pathIs(the path as decoded by req.path), "pathIs x": pathIs("/x")}.
 */
function rawCall(req: Request, p: RouteParams): Response {
  const binding = p.get("binding");
  // a Utf8 pattern (lit) for PROBE, a string pattern (encoded at run time) for GHOST
  const name = binding == "GHOST" ? req.param("/raw-call/GHOST/:name") : req.param(lit("/raw-call/PROBE/:name"));
  if (name === null) return Response.text("req.param did not match", 500);
  const ns = binding == "GHOST" ? env.GHOST.callJson(name, req.query, req.text()) : env.PROBE.callJson(name, req.query, req.text());
  const out = new ByteBuffer().str('{"name":').jsonUtf8(name).str(',"ok":').str(ns.ok ? "true" : "false")
    .str(',"json":').append(ns.ok ? ns.json : ns.errorAs("error"))
    .str(',"GET":').str(req.methodIs(lit("GET")) ? "true" : "false")
    .str(',"POST":').str(req.methodIs("POST") ? "true" : "false")
    .str(',"pathIs":').str(req.pathIs(req.path) ? "true" : "false")
    .str(',"pathIs x":').str(req.pathIs(lit("/x")) ? "true" : "false").str("}");
  return Response.json(out);
}

/** `src` as a JSON string, through ByteBuffer#utf8 and #jsonUtf8. */
function quoted(src: Utf8): ByteBuffer {
  return new ByteBuffer().jsonUtf8(new ByteBuffer().utf8(src));
}

/**
 * lit("..."): {"ascii", "unicode", "empty", "alias" (imported as `literal`), "runtime" (lit of
 * the query string: not a literal, encoded at run time)}, each the text of its bytes.
 */
function literals(req: Request, p: RouteParams): Response {
  const out = new ByteBuffer().str('{"ascii":').append(quoted(lit("plain ascii")))
    .str(',"unicode":').append(quoted(lit("lit: é 😀 ✓")))
    .str(',"empty":').append(quoted(lit("")))
    .str(',"alias":').append(quoted(literal("through an alias")))
    .str(',"runtime":').append(quoted(lit(req.query))).str("}");
  return Response.json(out);
}

/** Response.text with a Utf8 body and a status. */
function litText(req: Request, p: RouteParams): Response {
  return Response.text(lit("lit text é"), 202);
}

function misc(req: Request, p: RouteParams): Response {
  const a = randomBytes(16);
  const b = randomBytes(16);
  let same = true;
  for (let i = 0; i < 16; i++) if (a[i] != b[i]) same = false;
  const r = Math.random();
  return Response.json(new JsonObject()
    .int("nowMs", nowMs())
    .int("random length", a.length)
    .int("random 70000 length", randomBytes(70000).length) // more than one 64 KiB host fill
    .bool("two random draws equal", same)
    .bool("Math.random in [0,1)", r >= 0 && r < 1));
}
