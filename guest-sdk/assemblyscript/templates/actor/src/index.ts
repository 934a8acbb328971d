// {{name}}: an edgehost function that owns the {{Type}} actor type. `npm run build` compiles
// it to build/{{name}}.wasm.
//
//   POST /{{type_file}}/:name/increment  {"by":n} (optional, default 1) -> 200 {"name":..,"count":N}
//   GET  /{{type_file}}/:name                                          -> 200 {"name":..,"count":N}
//   GET  /health/liveness, /health/readiness                           -> 200 "ok"
import { Request, Response, JsonObject, ActorOutcome, match } from "edgehost-sdk/assembly";
import { env } from "./env"; // typed stubs of the [[actors]] bindings: `npm run types` regenerates it
// Exporting the class ships it: this function owns the {{Type}} type.
export { {{Type}} } from "./{{type_file}}";

export function fetch(req: Request): Response {
  const path = req.path;
  if (path == "/health/liveness" || path == "/health/readiness") return Response.text("ok");
  let m = match("/{{type_file}}/:name/increment", path);
  if (m !== null && req.method == "POST") {
    const body = req.json(); // null for an empty or invalid body
    const by = body !== null ? body.getI64("by", 1) : 1;
    const name = m.get("name");
    const r = env.{{BINDING}}.idFromName(name).increment(by);
    if (!r.ok) return actorError(r);
    return Response.json(new JsonObject().str("name", name).int("count", r.value));
  }
  m = match("/{{type_file}}/:name", path);
  if (m !== null && req.method == "GET") {
    const name = m.get("name");
    const r = env.{{BINDING}}.idFromName(name).get();
    if (!r.ok) return actorError(r);
    return Response.json(new JsonObject().str("name", name).int("count", r.value));
  }
  return Response.notFound();
}

/** 500 {"error": name, "message": ...}: actor errors are values, never exceptions. */
function actorError(r: ActorOutcome): Response {
  const e = r.error;
  const body = new JsonObject();
  if (e !== null) body.str("error", e.name).str("message", e.message);
  return Response.json(body, 500);
}
