// The hello example: a greeting, health checks, and /echo for host tests.
import { Request, Response, JsonObject } from "edgehost-sdk/assembly";

export function fetch(req: Request): Response {
  const path = req.path;
  if (path == "/") return Response.text("hello from edgehost\n");
  if (path == "/health/liveness" || path == "/health/readiness") return Response.text("ok");
  if (path == "/echo") return echo(req);
  return Response.notFound();
}

// {"method":"POST","path":"/echo","query":"x=1","bodyLength":5}
function echo(req: Request): Response {
  return Response.json(
    new JsonObject()
      .str("method", req.method)
      .str("path", req.path)
      .str("query", req.query)
      .int("bodyLength", req.bodyLength)
  );
}
