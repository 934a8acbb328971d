// Logging to the function's log through the host import `log`.
//
//   log.info("user " + id + " signed in");
//
// Each call is one log line. The host caps a request's log volume (256 lines / 64 KiB);
// past that the calls return LIMIT_EXCEEDED and the lines are dropped.

import { log as host_log, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } from "./abi";
import { utf8 } from "./bytes";

function write(level: i32, message: string): i32 {
  let bytes = utf8(message);
  return host_log(level, <i32>bytes.dataStart, bytes.length);
}

export namespace log {
  /** Writes `message` at debug level. Returns 0 or a negative status code. */
  export function debug(message: string): i32 { return write(LOG_DEBUG, message); }
  /** Writes `message` at info level. Returns 0 or a negative status code. */
  export function info(message: string): i32 { return write(LOG_INFO, message); }
  /** Writes `message` at warn level. Returns 0 or a negative status code. */
  export function warn(message: string): i32 { return write(LOG_WARN, message); }
  /** Writes `message` at error level. Returns 0 or a negative status code. */
  export function error(message: string): i32 { return write(LOG_ERROR, message); }
}
