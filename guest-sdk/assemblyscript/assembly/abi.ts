// Raw host imports of the edgehost guest ABI, version 1 (see guest-sdk/ABI.md).
//
// Every function lives in the import module "edgehost_v1". Pointers and lengths are
// i32 offsets into this module's exported `memory`; strings are UTF-8 bytes, never
// AssemblyScript (UTF-16) strings. Prefer the wrappers in http.ts / log.ts / env.ts;
// these declarations are the only imports an edgehost guest may have.
//
// AssemblyScript only emits an import for a declaration that is actually called, so a
// guest imports just the functions it uses (which is what ABI v1 expects).

// ---- status codes (>= 0 is success: a length or a count) -------------------------------

export const OK: i32 = 0;
/** The named thing does not exist (e.g. an unset env var). */
export const NOT_FOUND: i32 = -1;
/** A (ptr, len) range lies outside the guest's memory. */
export const OUT_OF_BOUNDS: i32 = -2;
/** The value exceeds a size limit (e.g. response body > 10 MB). */
export const TOO_LARGE: i32 = -3;
/** Bad UTF-8, an unknown log level, ... */
export const INVALID_ARGUMENT: i32 = -4;
/** A per-invocation quota is spent (e.g. log volume). */
export const LIMIT_EXCEEDED: i32 = -5;
/** The import is not usable in this context (e.g. storage outside an actor turn). */
export const NOT_PERMITTED: i32 = -6;
/** An actor call failed; the result slot holds the error as JSON {"name": ..., "message": ...}. */
export const ACTOR_ERROR: i32 = -7;
/** A value, argument list or result is not valid JSON or nests over 64 deep (the spec's CodecError). */
export const CODEC_ERROR: i32 = -8;
/** A host fault; details go to the host log, not to the guest. */
export const INTERNAL: i32 = -100;

// ---- log levels for `log` -----------------------------------------------------------------

export const LOG_DEBUG: i32 = 0;
export const LOG_INFO: i32 = 1;
export const LOG_WARN: i32 = 2;
export const LOG_ERROR: i32 = 3;

// ---- imports ------------------------------------------------------------------------------

/** Length of the current invocation's input (the encoded request). */
// @ts-ignore: decorator
@external("edgehost_v1", "input_len")
export declare function input_len(): i32;

/** Copies min(len, input_len) input bytes from offset 0 into [ptr, ptr+len); returns the count. */
// @ts-ignore: decorator
@external("edgehost_v1", "input_read")
export declare function input_read(ptr: i32, len: i32): i32;

/** Appends [ptr, ptr+len) to the invocation's output. 0, or TOO_LARGE past the limit. */
// @ts-ignore: decorator
@external("edgehost_v1", "output_write")
export declare function output_write(ptr: i32, len: i32): i32;

/** Copies the parked result-slot value into [ptr, ptr+len); returns the count or NOT_FOUND. */
// @ts-ignore: decorator
@external("edgehost_v1", "result_read")
export declare function result_read(ptr: i32, len: i32): i32;

/** Parks env var `name` in the result slot and returns its length, or NOT_FOUND. */
// @ts-ignore: decorator
@external("edgehost_v1", "env_get")
export declare function env_get(name_ptr: i32, name_len: i32): i32;

/** Appends a line at `level` (LOG_DEBUG..LOG_ERROR) to the function's log. */
// @ts-ignore: decorator
@external("edgehost_v1", "log")
export declare function log(level: i32, ptr: i32, len: i32): i32;

/** Attaches a message (<= 4 KiB kept) to this invocation's failure. Trap afterwards. */
// @ts-ignore: decorator
@external("edgehost_v1", "set_error_message")
export declare function set_error_message(ptr: i32, len: i32): i32;

/** Wall-clock time, milliseconds since the Unix epoch. */
// @ts-ignore: decorator
@external("edgehost_v1", "clock_now_ms")
export declare function clock_now_ms(): i64;

/** Fills [ptr, ptr+len) from the OS CSPRNG. 0, or TOO_LARGE above 64 KiB. */
// @ts-ignore: decorator
@external("edgehost_v1", "random_fill")
export declare function random_fill(ptr: i32, len: i32): i32;

// ---- actor storage (only inside an actor turn; NOT_PERMITTED elsewhere) ------------------

/** Parks the JSON text stored under key in the result slot; returns its length or NOT_FOUND. */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_get")
export declare function storage_get(key_ptr: i32, key_len: i32): i32;

/** Writes JSON text under key (turn-buffered). 0; INVALID_ARGUMENT, CODEC_ERROR, TOO_LARGE. */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_put")
export declare function storage_put(key_ptr: i32, key_len: i32, value_ptr: i32, value_len: i32): i32;

/** Deletes key: 1 if it existed, 0 if not. */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_delete")
export declare function storage_delete(key_ptr: i32, key_len: i32): i32;

/**
 * Lists entries; options are a JSON object (prefix, start, startAfter, end, reverse, limit).
 * Parks `count:u32 (key:str value:bytes){count}` in the result slot and returns its length.
 */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_list")
export declare function storage_list(options_ptr: i32, options_len: i32): i32;

/** Deletes every key of the instance (atomically, with the turn). */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_delete_all")
export declare function storage_delete_all(): i32;

/** Opens a nested transaction inside the turn (depth <= 16). */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_txn_begin")
export declare function storage_txn_begin(): i32;

/** Folds the innermost transaction into its parent; NOT_PERMITTED if none is open. */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_txn_commit")
export declare function storage_txn_commit(): i32;

/** Discards every write since the matching storage_txn_begin (and closes that transaction). */
// @ts-ignore: decorator
@external("edgehost_v1", "storage_txn_rollback")
export declare function storage_txn_rollback(): i32;

// ---- actor calls --------------------------------------------------------------------------

/**
 * Calls `method` on instance `name` of the actor type behind `binding`, with `args` (a JSON
 * array). Returns the length of the result (JSON text, result slot); ACTOR_ERROR with
 * {"name","message"} JSON in the result slot; CODEC_ERROR if args is not a JSON array.
 */
// @ts-ignore: decorator
@external("edgehost_v1", "actor_call")
export declare function actor_call(
  binding_ptr: i32, binding_len: i32,
  name_ptr: i32, name_len: i32,
  method_ptr: i32, method_len: i32,
  args_ptr: i32, args_len: i32
): i32;
