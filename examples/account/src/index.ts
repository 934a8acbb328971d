// The account function: owner of the Account actor type (binding ACCOUNT) and its HTTP API.
//
//   POST /accounts/:id/deposit {"amount":n}  -> 200 {"account":id,"balance":N}
//   POST /accounts/:id/debit   {"amount":n}  -> 200 {"account":id,"ok":true,"balance":N}
//                                               409 {"account":id,"ok":false,"balance":N}
//   GET  /accounts/:id/balance               -> 200 {"account":id,"balance":N}
//   a bad amount or bad JSON -> 400 {"error":"..."}; an actor error -> 500 {"error":name,"message":...}
import {
  Request, Response, JsonObject, JsonArray, JsonValue, ActorResult, ActorStub, onFetch, match, binding,
} from "edgehost-sdk/assembly";
export { edgehost_fetch } from "edgehost-sdk/assembly";
// Exporting the class ships it: this function owns the Account type.
export { Account } from "./account";

let problem = ""; // why readAmount rejected the body

onFetch((req: Request): Response => {
  const path = req.path;
  if (path == "/health/liveness" || path == "/health/readiness") return Response.text("ok");
  let m = match("/accounts/:id/balance", path);
  if (m !== null && req.method == "GET") return balance(m.get("id"));
  m = match("/accounts/:id/deposit", path);
  if (m !== null && req.method == "POST") return deposit(m.get("id"), req);
  m = match("/accounts/:id/debit", path);
  if (m !== null && req.method == "POST") return debit(m.get("id"), req);
  return Response.notFound();
});

function account(id: string): ActorStub {
  return binding("ACCOUNT").idFromName(id);
}

function balance(id: string): Response {
  const r = account(id).call("balance");
  if (!r.ok) return actorError(r);
  return Response.json(new JsonObject().str("account", id).raw("balance", r.value).toString());
}

function deposit(id: string, req: Request): Response {
  const amount = readAmount(req);
  if (amount <= 0) return badRequest();
  const r = account(id).call("deposit", new JsonArray().int(amount).toString());
  if (!r.ok) return actorError(r);
  return Response.json(new JsonObject().str("account", id).raw("balance", r.value).toString());
}

function debit(id: string, req: Request): Response {
  const amount = readAmount(req);
  if (amount <= 0) return badRequest();
  const r = account(id).call("debit", new JsonArray().int(amount).toString());
  if (!r.ok) return actorError(r);
  const result = r.json(); // {"ok":bool,"balance":N}
  const ok = result.getBool("ok");
  const body = new JsonObject().str("account", id).bool("ok", ok).int("balance", result.getI64("balance"));
  return Response.json(body.toString(), ok ? 200 : 409);
}

// ---- request validation ----------------------------------------------------------------------

/** The body's positive integer `amount`, or 0 with the reason in `problem`. */
function readAmount(req: Request): i64 {
  const body = JsonValue.parse(req.text());
  if (body === null) return reject("body is not valid JSON");
  if (!body.isObject()) return reject("body must be a JSON object");
  const amount = body.get("amount");
  if (amount === null) return reject("amount is required");
  if (!amount.isInteger() || amount.toI64() <= 0) return reject("amount must be a positive integer");
  return amount.toI64();
}

function reject(why: string): i64 {
  problem = why;
  return 0;
}

function badRequest(): Response {
  return Response.json(new JsonObject().str("error", problem).toString(), 400);
}

function actorError(r: ActorResult): Response {
  return Response.json(new JsonObject().str("error", r.errorName).str("message", r.errorMessage).toString(), 500);
}
