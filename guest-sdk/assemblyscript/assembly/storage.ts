// Actor storage: the instance's durable key/value store (guest-sdk/ABI.md, "Actor storage").
//
//   let balance = this.ctx.storage.get<i64>("balance", 0);
//   this.ctx.storage.put("balance", balance + amount);
//
// Keys are strings (UTF-8, <= 2 KiB, not starting with "__edgehost_"). Values are stored as JSON
// text (<= 128 KiB): putI64("balance", 100) stores `100`, putString("name", "x") stores `"x"`.
// The typed getters read what the matching putter wrote; `getJson`/`putJson` give the raw text.
//
// Writes go to the turn's buffer, reads see them, and everything commits together when the
// method returns; a method that aborts (throw, failed assert, storage error) commits nothing.
// Storage is usable only inside an actor turn (the constructor and the methods): anywhere else
// the host answers NOT_PERMITTED and the call aborts.
//
// Errors are aborts, with a message naming the operation, the key and the host's reason, e.g.
//   storage.put("__edgehost_x"): INVALID_ARGUMENT: key uses the reserved prefix
// AssemblyScript cannot catch, so an abort ends the whole turn (and discards its writes).

import {
  storage_get, storage_put, storage_delete, storage_list, storage_delete_all,
  storage_txn_begin, storage_txn_commit, storage_txn_rollback, result_read, NOT_FOUND,
} from "./abi";
import { resultText, lastError } from "./status";
import { decimal } from "./util";
import { ByteBuffer, utf8, readUtf8 } from "./bytes";
import { jsonString, writeJson, JsonObject, JsonText } from "./json";
import { JsonValue } from "./jsonread";

/** One entry of `Storage.list`: the key and its value as JSON text. */
export class StorageEntry {
  constructor(
    /** The key. */
    public readonly key: string,
    /** The stored value, as JSON text (e.g. `100`, `"x"`, `{"a":1}`). */
    public readonly value: string
  ) {}
}

/**
 * Options of `Storage.list`; every field is optional. Keys come in lexicographic order of their
 * UTF-8 bytes (`reverse` flips it).
 *
 *   let o = new ListOptions(); o.prefix = "order:"; o.limit = 10;
 *   for (let e of this.ctx.storage.list(o)) ...
 */
export class ListOptions {
  /** Only keys starting with this. */
  prefix: string | null = null;
  /** First key (inclusive). */
  start: string | null = null;
  /** Keys after this one (exclusive); use either `start` or `startAfter`. */
  startAfter: string | null = null;
  /** Keys before this one (exclusive). */
  end: string | null = null;
  /** Descending order. */
  reverse: bool = false;
  /** At most this many entries, 1-1000 (above 1000 is an error, not a cut); 0 = host default (128). */
  limit: i32 = 0;

  /** The JSON object the ABI takes: only the fields that are set. */
  toJson(): string {
    let o = new JsonObject();
    let v = this.prefix;
    if (v !== null) o.str("prefix", v);
    v = this.start;
    if (v !== null) o.str("start", v);
    v = this.startAfter;
    if (v !== null) o.str("startAfter", v);
    v = this.end;
    if (v !== null) o.str("end", v);
    if (this.reverse) o.bool("reverse", true);
    if (this.limit != 0) o.int("limit", this.limit);
    return o.toString();
  }
}

/** A storage operation failed: abort with "storage.<op>(<key>): <STATUS>: <host message>". */
function fail(op: string, key: string, rc: i32): void {
  let detail = lastError(); // the host's reason, e.g. "key uses the reserved prefix __edgehost_"
  abort("storage." + op + "(" + jsonString(key) + "): " + (detail.length ? detail : "status " + decimal(rc)));
}

/**
 * The storage of the actor instance the current turn runs for (`this.ctx.storage`).
 * Inside `transaction`, the `Transaction` passed to the callback has the same methods.
 */
export class Storage {
  /** Set once a Transaction is over (committed or rolled back); later operations on it abort. */
  protected closed: bool = false;

  /** The JSON text stored under `key`, or null if there is none. */
  getJson(key: string): string | null {
    this.check("get", key);
    let k = utf8(key);
    let n = storage_get(<i32>k.dataStart, k.length);
    if (n == NOT_FOUND) return null;
    if (n < 0) fail("get", key, n);
    return resultText(n);
  }

  /** True if a value is stored under `key`. */
  has(key: string): bool {
    return this.getJson(key) !== null;
  }

  /**
   * The value stored under `key` as T, or `otherwise` if there is none: `get<i64>("balance", 0)`.
   * T is bool, an integer type, f32/f64, string, `string | null`, JsonValue or JsonText (the
   * text as stored). Aborts if the stored value is not a T (an integer out of T's range too).
   */
  get<T>(key: string, otherwise: T): T {
    if (isManaged<T>() && !isString<T>()) {
      if (idof<NonNullable<T>>() == idof<JsonText>()) {
        let text = this.getJson(key);
        return text !== null ? changetype<T>(new JsonText(text)) : otherwise;
      }
    }
    let what = isBoolean<T>() ? "a bool"
      : isInteger<T>() ? (isSigned<T>() && sizeof<T>() == 8 ? "an integer" : "an integer in range of " + nameof<T>())
      : isFloat<T>() ? "a number" : isString<T>() ? "a string" : "JSON";
    let v = this.parsed(key, what);
    if (v === null) return otherwise;
    if (isBoolean<T>()) {
      if (!v.isBool()) this.wrongType(key, what, v.raw());
      return <T>v.toBool();
    } else if (isInteger<T>() && !isSigned<T>() && sizeof<T>() == 8) {
      if (!v.isU64()) this.wrongType(key, what, v.raw());
      return <T>v.toU64();
    } else if (isInteger<T>()) {
      let n = v.toI64();
      if (!v.isInteger() || <i64><T>n != n || (!isSigned<T>() && n < 0)) this.wrongType(key, what, v.raw());
      return <T>n;
    } else if (isFloat<T>()) {
      if (!v.isNumber()) this.wrongType(key, what, v.raw());
      return <T>v.toF64();
    } else if (isString<T>()) {
      if (isNullable<T>()) {
        if (v.isNull()) return changetype<T>(0);
      }
      if (!v.isString()) this.wrongType(key, what, v.raw());
      return changetype<T>(v.toStr());
    } else if (idof<NonNullable<T>>() == idof<JsonValue>()) {
      return changetype<T>(v);
    } else {
      ERROR("storage.get<T>: T is bool, an integer type, f32/f64, string, string | null, JsonValue or JsonText");
      return otherwise;
    }
  }

  /**
   * Stores `value` as JSON under `key`: `put("balance", 100)`. Takes what writeJson takes:
   * bool, integer types, f32/f64, string, `string | null`, JsonText, JsonValue, JsonObject,
   * JsonArray. NaN and infinities are not JSON: they abort.
   */
  put<T>(key: string, value: T): void {
    if (isFloat<T>()) {
      if (!isFinite(<f64>value)) abort("storage.put(" + jsonString(key) + "): NaN and infinities are not JSON");
    }
    let v = new ByteBuffer(32);
    writeJson<T>(v, value);
    this.putBytes(key, v);
  }

  private putBytes(key: string, v: ByteBuffer): void {
    this.check("put", key);
    let k = utf8(key);
    let rc = storage_put(<i32>k.dataStart, k.length, <i32>v.dataStart, v.length);
    if (rc < 0) fail("put", key, rc);
  }

  /** The string stored under `key` (by putString), or null if there is none. Aborts if it is not a string. */
  getString(key: string): string | null {
    let v = this.parsed(key, "a string");
    if (v === null) return null;
    if (!v.isString()) this.wrongType(key, "a string", v.raw());
    return v.toStr();
  }

  /** The integer stored under `key`, or `otherwise` if there is none. Aborts if it is not an integer. */
  getI64(key: string, otherwise: i64 = 0): i64 {
    let v = this.parsed(key, "an integer");
    if (v === null) return otherwise;
    if (!v.isInteger()) this.wrongType(key, "an integer", v.raw());
    return v.toI64();
  }

  /** The number stored under `key`, or `otherwise` if there is none. Aborts if it is not a number. */
  getF64(key: string, otherwise: f64 = 0): f64 {
    let v = this.parsed(key, "a number");
    if (v === null) return otherwise;
    if (!v.isNumber()) this.wrongType(key, "a number", v.raw());
    return v.toF64();
  }

  /** The bool stored under `key`, or `otherwise` if there is none. Aborts if it is not a bool. */
  getBool(key: string, otherwise: bool = false): bool {
    let v = this.parsed(key, "a bool");
    if (v === null) return otherwise;
    if (!v.isBool()) this.wrongType(key, "a bool", v.raw());
    return v.toBool();
  }

  /** Stores JSON text under `key`. Text that is not valid JSON aborts (the host's CODEC_ERROR). */
  putJson(key: string, json: string): void {
    this.putBytes(key, utf8(json));
  }

  /** Stores a string (as a JSON string). */
  putString(key: string, value: string): void {
    this.put<string>(key, value);
  }

  /** Stores an integer (as a JSON number: `100`). */
  putI64(key: string, value: i64): void {
    this.put<i64>(key, value);
  }

  /** Stores a number. NaN and infinities are not JSON: they abort with CODEC_ERROR. */
  putF64(key: string, value: f64): void {
    this.putJson(key, value.toString());
  }

  /** Stores `true` or `false`. */
  putBool(key: string, value: bool): void {
    this.put<bool>(key, value);
  }

  /** Deletes `key`; true if it existed. */
  delete(key: string): bool {
    this.check("delete", key);
    let k = utf8(key);
    let rc = storage_delete(<i32>k.dataStart, k.length);
    if (rc < 0) fail("delete", key, rc);
    return rc == 1;
  }

  /** Entries in key order (see ListOptions); all of them up to the host's default limit if `options` is null. */
  list(options: ListOptions | null = null): StorageEntry[] {
    let json = options !== null ? options.toJson() : "{}";
    this.check("list", json);
    let o = utf8(json);
    let n = storage_list(<i32>o.dataStart, o.length);
    if (n < 0) fail("list", json, n);
    let buf = new ByteBuffer(n);
    let got = result_read(<i32>buf.dataStart, n);
    if (got != n) abort("storage.list: malformed result");
    // count:u32 (key:str value:bytes){count}
    let p = buf.dataStart;
    let end = p + <usize>got;
    let out = new Array<StorageEntry>();
    if (got < 4) return out;
    let count = load<u32>(p);
    p += 4;
    for (let i: u32 = 0; i < count; i++) {
      let key = readStr(p, end);
      p += 4 + <usize>load<u32>(p);
      let value = readStr(p, end);
      p += 4 + <usize>load<u32>(p);
      out.push(new StorageEntry(key, value));
    }
    return out;
  }

  /** Deletes every key of the instance (atomically, with the rest of the turn). */
  deleteAll(): void {
    this.check("deleteAll", "");
    let rc = storage_delete_all();
    if (rc < 0) fail("deleteAll", "", rc);
  }

  /**
   * Runs `fn` in a nested transaction: its writes land together, or not at all if it calls
   * `txn.rollback()`. `fn` cannot capture locals (AssemblyScript has no closures); pass what it
   * needs with `transactionWith`. An abort inside `fn` ends the whole turn, not just `fn`.
   */
  transaction(fn: (txn: Transaction) => void): void {
    let txn = this.begin();
    fn(txn);
    txn.finish();
  }

  /** `transaction`, passing `arg` (e.g. the actor: `this`) through to `fn`. */
  transactionWith<T>(arg: T, fn: (txn: Transaction, arg: T) => void): void {
    let txn = this.begin();
    fn(txn, arg);
    txn.finish();
  }

  private begin(): Transaction {
    this.check("transaction", "");
    let rc = storage_txn_begin();
    if (rc < 0) fail("transaction", "", rc);
    return new Transaction();
  }

  private parsed(key: string, what: string): JsonValue | null {
    let text = this.getJson(key);
    if (text === null) return null;
    let v = JsonValue.parse(text);
    if (v === null) this.wrongType(key, what, text);
    return v;
  }

  private wrongType(key: string, what: string, text: string): void {
    abort("storage.get(" + jsonString(key) + "): stored value is not " + what + ": " + text);
  }

  private check(op: string, key: string): void {
    if (this.closed) abort("storage." + op + "(" + jsonString(key) + "): the transaction is over");
  }
}

/** The storage handle inside `Storage.transaction`: the same methods, plus `rollback`. */
export class Transaction extends Storage {
  /** Discards every write of this transaction. Do not use the transaction afterwards. */
  rollback(): void {
    if (this.closed) return;
    this.closed = true;
    let rc = storage_txn_rollback();
    if (rc < 0) fail("rollback", "", rc);
  }

  /** @hidden Commits unless rolled back (called by Storage.transaction). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    let rc = storage_txn_commit();
    if (rc < 0) fail("commit", "", rc);
  }
}

/** A `str` (u32 length + UTF-8) at `p`, bounds-checked against `end`. */
function readStr(p: usize, end: usize): string {
  if (p + 4 > end) abort("storage.list: malformed result");
  let len = <usize>load<u32>(p);
  if (p + 4 + len > end) abort("storage.list: malformed result");
  return readUtf8(p + 4, <i32>len);
}
