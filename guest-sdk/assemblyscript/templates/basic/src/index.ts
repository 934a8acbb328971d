// {{name}}: an edgehost function. `npm run build` compiles it to build/{{name}}.wasm.
//
//   GET /                  -> 200 "hello from {{name}}"
//   GET /health/liveness   -> 200 "ok" (and /health/readiness)
//   GET /hello/:who        -> 200 {"hello":who}
import { Request, Response, JsonObject, match } from "edgehost-sdk/assembly";

export function fetch(req: Request): Response {
  const path = req.path;
  if (path == "/") return Response.text("hello from {{name}}\n");
  if (path == "/health/liveness" || path == "/health/readiness") return Response.text("ok");
  const m = match("/hello/:who", path);
  if (m !== null && req.method == "GET") return Response.json(new JsonObject().str("hello", m.get("who")));
  return Response.notFound();
}
