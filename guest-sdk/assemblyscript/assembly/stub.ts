// Calling actors: stubs over the `actor_call` import (guest-sdk/ABI.md, "Actor calls").
//
//   let r = binding("ACCOUNT").idFromName("alice").call("deposit", "[100]");
//   if (r.ok) balance = r.json().toI64();               // r.value == "100"
//   else log.warn(r.errorName + ": " + r.errorMessage);  // e.g. ActorMethodError
//
// `binding` names one of the function's own `[[actors]] binding`s. A call blocks until the
// callee's turn has committed. Errors come back as values (ok == false), never as traps.
// This is the untyped layer: arguments and results are JSON text.

import { actor_call, random_fill, ACTOR_ERROR, CODEC_ERROR, INTERNAL } from "./abi";
import { resultText, lastError } from "./status";
import { utf8, decimal } from "./util";
import { JsonValue } from "./jsonread";

const HEX = "0123456789abcdef";

/** The outcome of an actor call: a JSON result, or an error with the name the spec gives it. */
export class ActorResult {
  constructor(
    /** True if the call succeeded and `value` holds its result. */
    public readonly ok: bool,
    /** The result as JSON text (e.g. `100`, `{"ok":true}`, `null`); "" on error. */
    public readonly value: string,
    /**
     * On error, its name: ActorMethodError, ActorUnknownMethodError, ActorUnresolvedBindingError,
     * CodecError, ... (guest-sdk/ABI.md, "Actor calls"); "" on success.
     */
    public readonly errorName: string,
    /** On error, its message ("" on success). */
    public readonly errorMessage: string
  ) {}

  /** The result parsed as JSON (a JSON null if the call failed). */
  json(): JsonValue {
    let v = JsonValue.parse(this.ok ? this.value : "null");
    return v !== null ? v : changetype<JsonValue>(JsonValue.parse("null"));
  }
}

/** A reference to one actor instance: `binding("ACCOUNT").idFromName("alice")`. */
export class ActorStub {
  constructor(
    /** The binding the call goes through (e.g. "ACCOUNT"). */
    public readonly binding: string,
    /** The instance name. */
    public readonly id: string
  ) {}

  /**
   * Calls `method` with `args`, a JSON array of its arguments (`"[100]"`; build one with
   * JsonArray). Blocks until the callee's turn has committed.
   */
  call(method: string, args: string = "[]"): ActorResult {
    let b = utf8(this.binding);
    let n = utf8(this.id);
    let m = utf8(method);
    let a = utf8(args);
    let rc = actor_call(
      changetype<i32>(b), b.byteLength, changetype<i32>(n), n.byteLength,
      changetype<i32>(m), m.byteLength, changetype<i32>(a), a.byteLength
    );
    if (rc >= 0) return new ActorResult(true, resultText(rc), "", "");
    let detail = lastError();
    if (rc == ACTOR_ERROR) {
      // {"name": ..., "message": ...}
      let e = JsonValue.parse(detail);
      if (e !== null) {
        let name = e.getString("name");
        let message = e.getString("message");
        if (name !== null) return new ActorResult(false, "", name, message !== null ? message : "");
      }
      return new ActorResult(false, "", "ActorError", detail);
    }
    if (rc == CODEC_ERROR) return new ActorResult(false, "", "CodecError", detail);
    if (rc == INTERNAL) return new ActorResult(false, "", "InternalError", detail);
    // Not expected from actor_call; the status is kept in the message (see abi.ts for names).
    return new ActorResult(false, "", "ActorCallError", "actor_call returned " + decimal(rc) + (detail.length ? ": " + detail : ""));
  }

  /** `call`, for a method whose result is an integer; `otherwise` if it failed or is not one. */
  callI64(method: string, args: string = "[]", otherwise: i64 = 0): i64 {
    let r = this.call(method, args);
    if (!r.ok) return otherwise;
    let v = r.json();
    return v.isInteger() ? v.toI64() : otherwise;
  }
}

/** The actor type behind one of the function's `[[actors]]` bindings. */
export class ActorNamespace {
  constructor(
    /** The binding name (e.g. "ACCOUNT"). */
    public readonly binding: string
  ) {}

  /** The stub of instance `name` (1-1024 bytes of UTF-8). */
  idFromName(name: string): ActorStub {
    return new ActorStub(this.binding, name);
  }

  /** A stub for a fresh, unguessable instance name: 32 hex characters from the host's CSPRNG. */
  newUniqueId(): ActorStub {
    let bytes = memory.data(16);
    let rc = random_fill(<i32>bytes, 16);
    if (rc < 0) abort("random_fill failed: " + decimal(rc));
    let out = changetype<string>(__new(64, idof<string>()));
    let p = changetype<usize>(out);
    for (let i: usize = 0; i < 16; i++) {
      let b = <i32>load<u8>(bytes + i);
      store<u16>(p + (i << 2), HEX.charCodeAt(b >> 4));
      store<u16>(p + (i << 2) + 2, HEX.charCodeAt(b & 15));
    }
    return new ActorStub(this.binding, out);
  }
}

/** The actor type behind `[[actors]] binding = name` of this function's manifest. */
export function binding(name: string): ActorNamespace {
  return new ActorNamespace(name);
}
