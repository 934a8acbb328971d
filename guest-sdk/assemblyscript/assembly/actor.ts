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

import { output_write, set_error_message } from "./abi";
import { readInput } from "./fetch";
import { Storage } from "./storage";
import { JsonValue } from "./jsonread";
import { JsonText, writeJson } from "./json";
export { JsonText } from "./json"; // for the generated dispatch code
import { ByteBuffer, readUtf8, utf8 } from "./bytes";
import { decimal } from "./util";

/** What an actor instance knows about itself: `this.ctx`. */
export class ActorContext {
  constructor(
    /** The instance name: "alice" for `idFromName("alice")`. */
    public readonly id: string,
    /** The instance's durable storage. */
    public readonly storage: Storage
  ) {}
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
    if (ctx === null) abort("actors are created by the host, not with new");
    pendingContext = null;
    this.ctx = changetype<ActorContext>(ctx);
  }
}

// ---- runtime of the generated entry points (transform/actors.js); not for user code --------

/** The `str`/`bytes` field (u32 length + bytes) at offset `at` of `buf`, as UTF-8 text; null if it does not fit. */
function field(buf: ArrayBuffer, at: u64): string | null {
  let size = <u64>buf.byteLength;
  let p = changetype<usize>(buf);
  if (at + 4 > size) return null;
  let len = <u64>load<u32>(p + <usize>at);
  if (at + 4 + len > size) return null;
  return readUtf8(p + <usize>at + 4, <i32>len);
}

/** Offset of the field after the one at offset 0 (which `field(buf, 0)` read successfully). */
function second(buf: ArrayBuffer): u64 {
  return 4 + <u64>load<u32>(changetype<usize>(buf));
}

/** Sets the invocation's error message and returns 1 (the ABI's failure). */
export function __actor_error(message: string): i32 {
  let bytes = utf8(message);
  set_error_message(<i32>bytes.dataStart, bytes.length);
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

/** The marker block allocated after the instance was constructed (arena mode). */
let arenaMark: usize = 0;

/**
 * @hidden Ends a generated entry point (`init`: edgehost_actor_init) and frees the turn's
 * garbage, so that an activation's memory stays flat over any number of calls. Nothing of the
 * turn is on the stack any more, and the instance is held by a global.
 *
 * - `minimal` runtime: a GC run (`__collect`).
 * - `stub` runtime, when the build transform found the program fit for it (`arena`: actor
 *   classes without fields, no module-level variables): everything allocated after the
 *   instance was constructed is garbage at the end of a call, so the heap's end moves back to
 *   a marker block allocated at the end of init. The stub allocator frees only its last
 *   block: the marker is made to span up to the heap's end, then freed, then taken again.
 */
export function __actor_end(rc: i32, init: bool, arena: bool): i32 {
  if (ASC_RUNTIME == 1) {
    __collect();
  } else if (ASC_RUNTIME == 0 && arena) {
    if (init) {
      arenaMark = __alloc(0);
    } else {
      let mark = arenaMark;
      let end = __alloc(0) + 12; // the heap's end (a 0-byte block takes 16 bytes: 4 of header, 12 of payload)
      store<usize>(mark - 4, end - mark); // the marker's size (BLOCK.mmInfo): it now reaches the end
      __free(mark); // the last block: the heap ends where the marker began
      arenaMark = __alloc(0);
      if (arenaMark != mark) abort("arena reset failed"); // an allocator that works differently
    }
  }
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
    let text = method !== null ? field(buf, second(buf)) : null;
    let args = text !== null ? JsonValue.parse(text) : null;
    if (method === null || args === null || !args.isArray()) {
      this.error = "malformed input"; // the host sends a method name and a JSON array
    } else {
      this.method = method;
      this.args = args;
      this.count = args.length;
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
    } else if (isInteger<T>() && !isSigned<T>() && sizeof<T>() == 8) {
      if (!v.isU64()) this.bad(index, "an integer in range of " + nameof<T>(), v);
      return <T>v.toU64();
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

  /** Writes `value` (a method's result) as the call's JSON result; returns 0. */
  result<T>(value: T): i32 {
    let out = new ByteBuffer();
    writeJson<T>(out, value);
    if (output_write(<i32>out.dataStart, out.length) < 0) abort(this.where + ": result too large");
    return 0;
  }

  /** Writes the JSON null result of a method without a result; returns 0. */
  done(): i32 {
    return this.result<JsonText | null>(null);
  }

  /** Reports `error` as the failure; returns 1. */
  fail(): i32 {
    return __actor_error(changetype<string>(this.error)); // set whenever fail() is called
  }

  /** The host normally refuses unknown methods itself (ActorUnknownMethodError). */
  unknownMethod(): i32 {
    return __actor_error("unknown method " + this.method);
  }
}
