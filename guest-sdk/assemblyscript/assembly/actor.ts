// Stateful actors: the base class a module's actor classes extend, and the runtime the
// generated entry points use (guest-sdk/ABI.md, "edgehost_actor_init" / "edgehost_actor_call").
//
//   import { StatefulActor, JsonText, JsonObject } from "edgehost-sdk/assembly";
//
//   export class Account extends StatefulActor {
//     deposit(amount: i64): i64 {
//       let balance = this.ctx.storage.getI64("balance", 0) + amount;
//       this.ctx.storage.putI64("balance", balance);
//       return balance;
//     }
//     balance(): i64 { return this.ctx.storage.getI64("balance", 0); }
//   }
//
// The build transform (transform/actors.js, run by edgehost-asc) finds every exported class
// that extends StatefulActor in the program rooted at the entry file, and generates the two
// exports and the `edgehost.actors` custom section for them. Their public methods (names not
// starting with "_") become callable through stubs; arguments and results travel as JSON.

import { input_len, input_read, output_write, set_error_message, TOO_LARGE } from "./abi";
import { Storage } from "./storage";
import { JsonValue } from "./jsonread";
import { jsonString } from "./json";
import { utf8, fromUtf8, decimal, decimalU } from "./util";

/** What an actor instance knows about itself: `this.ctx`. */
export class ActorContext {
  constructor(
    /** The instance name: "alice" for `idFromName("alice")`. */
    public readonly id: string,
    /** The instance's durable storage. */
    public readonly storage: Storage
  ) {}
}

/**
 * Already-serialized JSON, as a method result or parameter type. A method declared
 * `debit(amount: i64): JsonText` returns its text as is (`{"ok":true,"balance":5}`), where a
 * `string` result would be sent as a JSON string. A `JsonText` parameter receives the
 * argument's JSON text, whatever its type.
 */
export class JsonText {
  constructor(public readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

let pendingContext: ActorContext | null = null;

/**
 * Base class of actor classes. The constructor is the activation's init hook: it runs once
 * per activation, as its first turn (edgehost_actor_init), before any method call, and may
 * use `this.ctx.storage`. Memory is a cache: fields may be dropped with the activation
 * between any two calls, so keep what must survive in storage.
 *
 * Only the host constructs actors; `new Account()` in your own code aborts.
 */
export abstract class StatefulActor {
  /** The instance's name and storage. */
  readonly ctx: ActorContext;

  constructor() {
    let ctx = pendingContext;
    if (ctx === null) abort("actor classes are constructed by the host, not with new");
    pendingContext = null;
    this.ctx = changetype<ActorContext>(ctx);
  }
}

// ---- runtime of the generated entry points (transform/actors.js); not for user code --------

/** Reads this invocation's input bytes. */
function readInput(): Uint8Array {
  let len = input_len();
  if (len < 0) abort("input_len failed: " + decimal(len));
  let buf = new Uint8Array(len);
  let got = input_read(<i32>buf.dataStart, len);
  if (got != len) abort("input_read returned " + decimal(got) + ", expected " + decimal(len));
  return buf;
}

/** The `str`/`bytes` field (u32 length + bytes) at offset `at` of `buf`, as UTF-8 text; null if it does not fit. */
function field(buf: Uint8Array, at: u64): string | null {
  let size = <u64>buf.length;
  if (at + 4 > size) return null;
  let len = <u64>load<u32>(buf.dataStart + <usize>at);
  if (at + 4 + len > size) return null;
  return fromUtf8(buf.dataStart + <usize>at + 4, <usize>len);
}

/** Offset of the field after the one at offset 0 (which `field(buf, 0)` read successfully). */
function second(buf: Uint8Array): u64 {
  return 4 + <u64>load<u32>(buf.dataStart);
}

/** Sets the invocation's error message and returns 1 (the ABI's failure). */
export function __actor_error(message: string): i32 {
  let bytes = utf8(message);
  set_error_message(changetype<i32>(bytes), bytes.byteLength);
  return 1;
}

/**
 * @hidden Reads the init input `class:str name:str`, prepares the context the
 * StatefulActor constructor picks up, and returns the class name (null if the input is malformed).
 */
export function __actor_init(): string | null {
  let buf = readInput();
  let cls = field(buf, 0);
  if (cls === null) return null;
  let name = field(buf, second(buf));
  if (name === null) return null;
  pendingContext = new ActorContext(name, new Storage());
  return cls;
}

/**
 * @hidden Ends a generated entry point: under the `minimal` runtime, frees the turn's garbage
 * (nothing of the turn is on the stack any more; the instance is held by a global).
 */
export function __actor_end(rc: i32): i32 {
  if (ASC_RUNTIME == 1) __collect();
  return rc;
}

/** @hidden One `edgehost_actor_call` invocation: input `method:str args:bytes`. */
export class __ActorCall {
  /** The method name. */
  method: string = "";
  /** The first problem found (malformed input, wrong arguments); null while all is well. */
  error: string | null = null;
  private args: JsonValue | null = null;
  /** Number of arguments. */
  count: i32 = 0;
  private where: string = "";

  constructor(public className: string) {
    let buf = readInput();
    let method = field(buf, 0);
    let args: JsonValue | null = null;
    if (method !== null) {
      this.method = method;
      let text = field(buf, second(buf));
      if (text !== null) {
        args = JsonValue.parse(text);
        if (args === null || !args.isArray()) this.error = "arguments are not a JSON array: " + text;
      }
    }
    if (this.error === null && args === null) this.error = "malformed actor call input";
    if (this.error === null) {
      this.args = args;
      this.count = changetype<JsonValue>(args).length;
    }
  }

  /** Checks the argument count against the method's (required, total) parameters. */
  expect(name: string, required: i32, total: i32): bool {
    this.where = this.className + "." + name;
    let n = this.count;
    if (n >= required && n <= total) return true;
    let want = required == total ? decimal(total) : decimal(required) + "-" + decimal(total);
    this.error = this.where + " takes " + want + " argument(s), got " + decimal(n);
    return false;
  }

  /** Argument `index` decoded as T (i32/i64/u32/.../f64/bool/string/string|null/JsonText). */
  arg<T>(index: i32): T {
    let v = changetype<JsonValue>(changetype<JsonValue>(this.args).at(index));
    if (isBoolean<T>()) {
      if (!v.isBool()) this.bad(index, "a bool", v);
      return <T>v.toBool();
    } else if (isInteger<T>()) {
      let n = v.toI64();
      if (!v.isInteger()) this.bad(index, "an integer", v);
      else if (<i64><T>n != n || (!isSigned<T>() && n < 0)) this.bad(index, "an integer in range of " + nameof<T>(), v);
      return <T>n;
    } else if (isFloat<T>()) {
      if (!v.isNumber()) this.bad(index, "a number", v);
      return <T>v.toF64();
    } else if (isString<T>()) {
      if (isNullable<T>()) {
        if (v.isNull()) return changetype<T>(0);
      }
      if (!v.isString()) this.bad(index, "a string", v);
      return changetype<T>(v.toStr());
    } else if (isManaged<T>() && idof<NonNullable<T>>() == idof<JsonText>()) {
      return changetype<T>(new JsonText(v.raw()));
    } else {
      ERROR("actor method parameters must be bool, an integer type, f32/f64, string, string | null or JsonText");
      return changetype<T>(0);
    }
  }

  private bad(index: i32, what: string, v: JsonValue): void {
    if (this.error === null) {
      this.error = this.where + ": argument " + decimal(index + 1) + " must be " + what + ", got " + v.raw();
    }
  }

  /** Writes `json` as the call's result; returns 0. */
  ok(json: string): i32 {
    let out = utf8(json);
    let rc = output_write(changetype<i32>(out), out.byteLength);
    if (rc == TOO_LARGE) abort(this.where + ": result too large (" + decimal(out.byteLength) + " bytes)");
    if (rc < 0) abort("output_write failed: " + decimal(rc));
    return 0;
  }

  /** Reports `error` as the failure; returns 1. */
  fail(): i32 {
    let e = this.error;
    return __actor_error(e !== null ? e : "actor call failed");
  }

  /** The host normally refuses unknown methods itself (ActorUnknownMethodError). */
  unknownMethod(): i32 {
    return __actor_error("unknown method " + this.method);
  }
}

/** @hidden A method result as JSON text: integers, floats, bools, strings, JsonText; see __ActorCall.arg. */
export function __actor_result<T>(v: T): string {
  if (isBoolean<T>()) {
    return v ? "true" : "false";
  } else if (isInteger<T>()) {
    if (isSigned<T>()) return decimal(<i64>v);
    return decimalU(<u64>v);
  } else if (isFloat<T>()) {
    return jsonNumber(<f64>v);
  } else if (isString<T>()) {
    if (isNullable<T>()) {
      if (changetype<usize>(v) == 0) return "null";
    }
    return jsonString(changetype<string>(v));
  } else if (isManaged<T>() && idof<NonNullable<T>>() == idof<JsonText>()) {
    if (isNullable<T>()) {
      if (changetype<usize>(v) == 0) return "null";
    }
    return changetype<JsonText>(v).text;
  } else {
    ERROR("actor method results must be void, bool, an integer type, f32/f64, string, string | null or JsonText");
    return "null";
  }
}

/** A float as JSON: integral values without ".0" (as JavaScript prints them); NaN/Infinity as null. */
function jsonNumber(v: f64): string {
  if (!isFinite(v)) return "null";
  if (v == Math.trunc(v) && Math.abs(v) < 9007199254740992) return decimal(<i64>v);
  return v.toString();
}
