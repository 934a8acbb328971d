// account-readonly: a class-free reference to the Account actor type, under its own binding
// READONLY. It ships no class (it imports none), so its calls reach the owner's instances
// and state: a balance deposited through the account function is read here.
//
//   GET /accounts/:id/balance -> 200 {"account":id,"balance":N,"via":"READONLY->Account(shared)"}
import { Request, Response, JsonObject, onFetch, match, binding } from "edgehost-sdk/assembly";
export { edgehost_fetch } from "edgehost-sdk/assembly";

onFetch((req: Request): Response => {
  const path = req.path;
  if (path == "/health/liveness" || path == "/health/readiness") return Response.text("ok");
  const m = match("/accounts/:id/balance", path);
  if (m !== null && req.method == "GET") {
    const id = m.get("id");
    const r = binding("READONLY").idFromName(id).call("balance");
    if (!r.ok) {
      return Response.json(new JsonObject().str("error", r.errorName).str("message", r.errorMessage).toString(), 500);
    }
    return Response.json(
      new JsonObject().str("account", id).raw("balance", r.value).str("via", "READONLY->Account(shared)").toString()
    );
  }
  return Response.notFound();
});
