// The actor classes of the SDK probe. Every method exists to let tests/sdk/test_sdk_probe.py
// observe one piece of the SDK from the outside: what it stores, what it reads back, what a
// caller receives. Methods return JsonText reports so one call can show several observations.
//
// No fields and no module-level variables: the build keeps the arena memory mode, as the
// examples do, so the probe also runs the SDK's arena reset after every call.
import {
  StatefulActor, JsonText, JsonObject, JsonArray, JsonValue, ListOptions, Transaction, log,
} from "edgehost-sdk/assembly";
import { env } from "./env";

/** A string that needs escaping both ways: quotes, backslash, control characters, non-ASCII. */
export function tricky(): string {
  return "he said \"hi\"\\\n\t\u0001 é 😀"; // (a function: a module-level const would cost the arena mode)
}

export class Probe extends StatefulActor {
  // ---- identity and calls between actors -----------------------------------------------------

  /** The instance name (`ctx.id`). */
  whoami(): string {
    return this.ctx.id;
  }

  /** An actor-to-actor call: `other`'s name, as that instance reports it. */
  callPeer(other: string): string {
    const r = env.PROBE.idFromName(other).whoami();
    if (!r.ok) abort("callPeer failed: " + r.error!.toString());
    return r.value;
  }

  /** Calls this very instance again: the host refuses (A -> A), and that is a value here. */
  callSelf(): JsonText {
    const r = env.PROBE.idFromName(this.ctx.id).whoami();
    const e = r.error;
    const o = new JsonObject().bool("ok", r.ok);
    if (e !== null) o.str("name", e.name);
    return new JsonText(o.toString());
  }

  // ---- typed storage: what each putter stores, what each getter reads ------------------------

  /** Writes one value of every kind, with the dedicated putters and with put<T>. */
  putTyped(): void {
    const s = this.ctx.storage;
    s.putI64("i64", -9007199254740993); // beyond f64 precision: must stay exact
    s.putF64("f64", 1.5);
    s.putBool("bool", true);
    s.putString("string", tricky());
    s.putJson("json", "{\"x\": [1, 2], \"y\": null}"); // stored as given, spaces included
    s.put<i64>("g:i64", 9223372036854775807);
    s.put<i32>("g:i32", -5);
    s.put<f64>("g:f64", 2.0); // integral: stored as 2, like JavaScript
    s.put<bool>("g:bool", false);
    s.put<string>("g:string", "plain");
    s.put<string | null>("g:null", null);
    s.put<JsonObject>("g:object", new JsonObject().int("a", 1).str("b", "c"));
    s.put<JsonArray>("g:array", new JsonArray().int(1).str("two").null());
    s.put<JsonText>("g:text", new JsonText("[true,false]"));
  }

  /** Reads back what putTyped wrote (in a later call), plus the defaults of missing keys. */
  getTyped(): JsonText {
    const s = this.ctx.storage;
    const o = new JsonObject();
    o.int("i64", s.getI64("i64"))
      .num("f64", s.getF64("f64"))
      .bool("bool", s.getBool("bool"))
      .set<string | null>("string", s.getString("string"))
      .set<string | null>("json", s.getJson("json"))
      .int("g:i64", s.get<i64>("g:i64", 0))
      .int("g:i32", s.get<i32>("g:i32", 0))
      .num("g:f64", s.get<f64>("g:f64", 0))
      .bool("g:bool", s.get<bool>("g:bool", true))
      .str("g:string", s.get<string>("g:string", ""))
      .bool("g:null is null", s.get<string | null>("g:null", "default") === null);
    const obj = s.get<JsonValue | null>("g:object", null);
    o.str("g:object.b", obj !== null ? obj.getString("b")! : "?");
    o.str("g:text", s.get<JsonText>("g:text", new JsonText("")).text);
    // The text each key holds: what the SDK encoded, byte for byte.
    const stored = new JsonObject();
    const keys = ["i64", "f64", "bool", "string", "json", "g:i64", "g:i32", "g:f64", "g:bool",
                  "g:string", "g:null", "g:object", "g:array", "g:text"];
    for (let i = 0; i < keys.length; i++) stored.set<string | null>(keys[i], s.getJson(keys[i]));
    o.set<JsonObject>("stored", stored);
    // Missing keys: the getters' defaults.
    o.int("missing i64", s.getI64("missing", 42))
      .num("missing f64", s.getF64("missing", 0.25))
      .bool("missing bool", s.getBool("missing", true))
      .bool("missing string is null", s.getString("missing") === null)
      .bool("missing json is null", s.getJson("missing") === null)
      .int("missing get<i32>", s.get<i32>("missing", 7))
      .bool("has i64", s.has("i64"))
      .bool("has missing", s.has("missing"));
    return new JsonText(o.toString());
  }

  // ---- storage by key, driven by the test ----------------------------------------------------

  /** Stores `value` (any JSON) under `key`. */
  set(key: string, value: JsonText): void {
    this.ctx.storage.putJson(key, value.text);
  }

  /** The JSON text stored under `key`, or null if there is none. */
  read(key: string): string | null {
    return this.ctx.storage.getJson(key);
  }

  /** Deletes `key`: true if it existed. */
  remove(key: string): bool {
    return this.ctx.storage.delete(key);
  }

  /** Stores `[[key, value], ...]`; returns how many. */
  seed(entries: JsonText): i32 {
    const list = JsonValue.parse(entries.text)!;
    for (let i = 0; i < list.length; i++) {
      const e = list.at(i)!;
      this.ctx.storage.putJson(e.at(0)!.toStr(), e.at(1)!.raw());
    }
    return list.length;
  }

  /** `storage.list` with the options of a JSON object; `[[key, value], ...]`. */
  listKeys(options: JsonText): JsonText {
    const json = JsonValue.parse(options.text)!;
    const o = new ListOptions();
    o.prefix = json.getString("prefix");
    o.start = json.getString("start");
    o.startAfter = json.getString("startAfter");
    o.end = json.getString("end");
    o.reverse = json.getBool("reverse", false);
    o.limit = <i32>json.getI64("limit", 0);
    // No options at all must mean the same as null options: list everything (default limit).
    const entries = json.length == 0 ? this.ctx.storage.list() : this.ctx.storage.list(o);
    const out = new JsonArray();
    for (let i = 0; i < entries.length; i++) {
      out.raw(new JsonArray().str(entries[i].key).raw(entries[i].value).toString());
    }
    return new JsonText(out.toString());
  }

  /** deleteAll, then an abort: deleteAll is part of the call, so nothing is deleted. */
  wipeAndFail(): void {
    this.ctx.storage.deleteAll();
    abort("abort after deleteAll");
  }

  /** deleteAll, then how many keys this call still sees (0). */
  wipe(): i32 {
    this.ctx.storage.deleteAll();
    return this.ctx.storage.list().length;
  }

  /** Within one call, every read sees the call's own earlier writes and deletes. */
  readOwnWrites(): JsonText {
    const s = this.ctx.storage;
    const seen = new JsonArray();
    seen.add<string | null>(s.getJson("row"));
    s.putI64("row", 1);
    seen.add<string | null>(s.getJson("row"));
    s.putI64("row", 2);
    seen.add<i64>(s.getI64("row"));
    seen.add<bool>(s.delete("row"));
    seen.add<bool>(s.has("row"));
    s.putI64("row", 3);
    seen.add<i32>(s.list().length); // the listing sees the buffered key too
    return new JsonText(seen.toString());
  }

  // ---- transactions -----------------------------------------------------------------------

  /** Commit, rollback, nesting and transactionWith; the report says what each step saw. */
  transactions(): JsonText {
    const s = this.ctx.storage;
    const seen = new JsonObject();
    s.putI64("t:outer", 1);

    s.transactionWith<JsonObject>(seen, (txn: Transaction, seen: JsonObject): void => {
      txn.putI64("t:commit", 1);
      seen.int("inside commit sees its write", txn.getI64("t:commit", -1));
    });
    seen.int("after commit", s.getI64("t:commit", -1));

    s.transactionWith<JsonObject>(seen, (txn: Transaction, seen: JsonObject): void => {
      txn.putI64("t:rollback", 1);
      txn.putI64("t:outer", 99);
      seen.int("inside rollback sees outer 99", txn.getI64("t:outer", -1));
      txn.rollback();
    });
    seen.bool("after rollback has t:rollback", s.has("t:rollback"));
    seen.int("after rollback t:outer", s.getI64("t:outer", -1));

    // Nested: the inner one rolls back, the outer one commits.
    s.transaction((txn: Transaction): void => {
      txn.putI64("t:nested-outer", 1);
      txn.transaction((inner: Transaction): void => {
        inner.putI64("t:nested-inner", 1);
        inner.rollback();
      });
    });
    seen.bool("nested outer kept", s.has("t:nested-outer"));
    seen.bool("nested inner kept", s.has("t:nested-inner"));

    // transactionWith hands the actor itself through (arrow functions cannot capture).
    s.transactionWith<Probe>(this, (txn: Transaction, self: Probe): void => {
      txn.putString("t:with", self.ctx.id);
    });
    return new JsonText(seen.toString());
  }

  /** Writes, then aborts inside a transaction: the whole call commits nothing. */
  abortInTransaction(): void {
    this.ctx.storage.putI64("ta:before", 1);
    this.ctx.storage.transaction((txn: Transaction): void => {
      txn.putI64("ta:inside", 1);
      abort("abort inside a transaction");
    });
  }

  /** Uses a transaction after rolling it back: the SDK aborts the call. */
  useAfterRollback(): void {
    this.ctx.storage.transaction((txn: Transaction): void => {
      txn.rollback();
      txn.putI64("x", 1);
    });
  }

  // ---- failures -----------------------------------------------------------------------------

  /** Writes, then aborts with `message`: the caller gets ActorMethodError(message), no write. */
  fail(message: string): void {
    this.ctx.storage.putI64("fail:written", 1);
    abort(message);
  }

  /** `throw new Error(message)`: the same as abort for the caller. */
  throwError(message: string): void {
    throw new Error(message);
  }

  /** A key with the reserved prefix: the host refuses it and the SDK aborts with its reason. */
  badKey(): void {
    this.ctx.storage.putI64("__edgehost_x", 1);
  }

  /** NaN is not JSON: put aborts before the host sees it. */
  putNaN(): void {
    this.ctx.storage.put<f64>("nan", NaN);
  }

  /** putF64 writes the number's text; NaN is not JSON and the host refuses it (CODEC_ERROR). */
  putF64NaN(): void {
    this.ctx.storage.putF64("nan", NaN);
  }

  /** A stored value of the wrong type for the typed getter aborts. */
  wrongType(): i64 {
    this.ctx.storage.putString("not-a-number", "x");
    return this.ctx.storage.getI64("not-a-number");
  }

  // ---- one method per parameter/result type (typed stubs in src/env.ts) ---------------------

  echoBool(x: bool): bool { return x; }
  echoI32(x: i32): i32 { return x; }
  echoI64(x: i64): i64 { return x; }
  echoU8(x: u8): u8 { return x; }
  echoU64(x: u64): u64 { return x; }
  echoF32(x: f32): f32 { return x; }
  maxU64(): u64 { return u64.MAX_VALUE; }
  echoF64(x: f64): f64 { return x; }
  echoString(x: string): string { return x; }
  echoMaybe(x: string | null): string | null { return x; }
  echoJson(x: JsonText): JsonText { return x; }

  /** put<u64> then get<u64> of u64.MAX_VALUE, in one call. */
  storeMaxU64(): u64 {
    this.ctx.storage.put<u64>("u64", u64.MAX_VALUE);
    return this.ctx.storage.get<u64>("u64", 0);
  }

  /** No result (the caller gets an ActorOutcome); it writes, so the test can see it ran. */
  touch(): void {
    this.ctx.storage.putBool("touched", true);
  }

  /** Trailing parameters with defaults: callable with 1 to 3 arguments. */
  optional(a: i32, b: i32 = 10, c: string = "z"): string {
    return a.toString() + "/" + b.toString() + "/" + c;
  }

  /** A line in the owner's log, from inside an actor call. */
  logLine(token: string): void {
    log.info("actor " + this.ctx.id + " " + token);
  }

  // ---- never callable -----------------------------------------------------------------------

  /** Names starting with "_" are private: ActorPrivateMethodError. */
  _secret(): i32 { return 1; }

  /** `private` members are not RPC methods: ActorUnknownMethodError. */
  private hidden(): i32 { return 2; }
}

/** An actor whose constructor (the init hook) uses storage: it counts its activations. */
export class Booted extends StatefulActor {
  constructor() {
    super();
    const s = this.ctx.storage;
    s.putI64("boots", s.getI64("boots") + 1);
    s.putString("booted as", this.ctx.id);
  }

  /** {"boots": N, "booted as": name}: N is 1 for as long as the first activation lives. */
  boots(): JsonText {
    const s = this.ctx.storage;
    return new JsonText(new JsonObject().int("boots", s.getI64("boots"))
      .set<string | null>("booted as", s.getString("booted as")).toString());
  }
}
