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
/** The import is not usable in this context. */
export const NOT_PERMITTED: i32 = -6;
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
