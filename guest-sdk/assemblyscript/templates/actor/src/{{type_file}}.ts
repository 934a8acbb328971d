// The {{Type}} actor: one instance per name, reached with env.{{BINDING}}.idFromName(name).
// Calls to one name run one at a time, so a read-modify-write needs no lock, and a call's
// writes are durable before its caller gets the result. Keep state in storage: the instance
// itself may be dropped between any two calls.
import { StatefulActor } from "edgehost-sdk/assembly";

export class {{Type}} extends StatefulActor {
  /** Adds `by` to the count and returns the new count. */
  increment(by: i64): i64 {
    const count = this.get() + by;
    this.ctx.storage.put("count", count);
    return count;
  }

  /** The current count (0 for a new name). */
  get(): i64 {
    return this.ctx.storage.get<i64>("count", 0);
  }
}
