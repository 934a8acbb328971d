#!/usr/bin/env node
// edgehost-asc: compile an AssemblyScript edgehost function to build/<name>.wasm.
//
//   edgehost-asc                       # entry and name from ./telnyx.toml (main, name)
//   edgehost-asc src/index.ts          # output build/index.wasm
//   edgehost-asc src/x.ts -o out.wasm  # explicit output; other arguments go to asc as-is
//
// It runs asc with the flags the SDK relies on (see README.md) and the build transform
// (transform/actors.js), shrinks the module (see `shrink`), then checks it against ABI v1:
// every import must be an edgehost_v1 function with its exact signature, and `memory` must
// be exported.
//
// Output contract (for tools that run it):
//   success: exit 0; the last line on stdout is `built <path> (<bytes> bytes)`.
//   failure: exit 1; the last line on stderr is `error: <file>[:<line>:<col>]: <message>`
//            (the first compile error, a transform error, a missing telnyx.toml/main/entry,
//            or a module that does not fit the ABI); the compiler's full output is above it.
//   bad usage (an option without its value): exit 2, same `error:` line.
//
// Runtime: `stub` (bump allocator, never frees) unless the program has actor classes, which
// get `minimal` (see README.md, "Building"). An explicit --runtime is used as given.

import fs from "node:fs";
import path from "node:path";
import asc from "assemblyscript/asc";
import ActorTransform from "../transform/actors.js";
import LiteralsTransform from "../transform/literals.js";

// ABI v1 imports, module "edgehost_v1" (guest-sdk/ABI.md): name -> [params, results].
const ABI_MODULE = "edgehost_v1";
const ABI_IMPORTS = {
  input_len: [[], ["i32"]],
  input_read: [["i32", "i32"], ["i32"]],
  output_write: [["i32", "i32"], ["i32"]],
  result_read: [["i32", "i32"], ["i32"]],
  env_get: [["i32", "i32"], ["i32"]],
  log: [["i32", "i32", "i32"], ["i32"]],
  set_error_message: [["i32", "i32"], ["i32"]],
  clock_now_ms: [[], ["i64"]],
  random_fill: [["i32", "i32"], ["i32"]],
  // actor storage
  storage_get: [["i32", "i32"], ["i32"]],
  storage_put: [["i32", "i32", "i32", "i32"], ["i32"]],
  storage_delete: [["i32", "i32"], ["i32"]],
  storage_list: [["i32", "i32"], ["i32"]],
  storage_delete_all: [[], ["i32"]],
  storage_txn_begin: [[], ["i32"]],
  storage_txn_commit: [[], ["i32"]],
  storage_txn_rollback: [[], ["i32"]],
  // actor calls
  actor_call: [["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], ["i32"]],
};

// Actor entry points a module may export (guest-sdk/ABI.md, "Guest exports").
const ACTOR_EXPORTS = ["edgehost_actor_init", "edgehost_actor_call"];

// -O3z: optimize level 3, shrink level 2: a release build that inlines less. It is 15-20%
//   smaller than -O3 for these modules, and no slower measurably (a guest's time goes to
//   the host calls it makes).
// --use abort=/trace=/seed=: route the builtins asc would import from "env" to the SDK's
//   implementations in assembly/abort.ts (set_error_message + trap, log, random_fill).
// --disableWarning 235: "only variables, functions and enums become module exports", which
//   every `export { Account } from "./account"` (the way an actor class is rooted) triggers.
// Memory stays exported as "memory" (no --noExportMemory), the runtime is not exported
// (no --exportRuntime), and top-level statements run as the wasm start function.
const SDK_FLAGS = [
  "-O3z",
  "--use", "abort=edgehost_abort",
  "--use", "trace=edgehost_trace",
  "--use", "seed=edgehost_seed",
  "--disableWarning", "235",
];
// --runtime stub: bump allocator that never frees; every request runs in a fresh instance,
//   so a GC would only cost size and time. Modules with actor classes get `minimal`
//   (TLSF + mark/sweep, collected at the end of every actor turn by the generated code),
//   because one activation's instance serves many calls.
const DEFAULT_RUNTIME = "stub";
const ACTOR_RUNTIME = "minimal";

/** Exits with `error: <where>: <message>` as the last line on stderr. */
function fail(where, message, code = 1) {
  process.stderr.write(`error: ${where ? `${where}: ` : ""}${message}\n`);
  process.exit(code);
}

/** Top-level `key = "string"` pairs of a TOML file (enough for name/main). */
function readManifest(file) {
  const out = {};
  for (const line of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) break; // first table: top level is over
    const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*"([^"\\]*)"\s*(#.*)?$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function parseArgs(argv) {
  let entry = null;
  let outFile = null;
  let shrink = true;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o" || a === "--outFile") {
      if (i + 1 >= argv.length) fail(null, `${a} needs a file name`, 2);
      outFile = argv[++i];
    } else if (a.startsWith("--outFile=")) outFile = a.slice("--outFile=".length);
    else if (a === "--no-shrink") shrink = false;
    else if (!a.startsWith("-") && /\.ts$/.test(a) && entry === null) entry = a;
    else rest.push(a);
  }
  return { entry, outFile, shrink, rest };
}

// ---- a minimal wasm reader -------------------------------------------------------------------

const VALTYPES = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["func", "table", "memory", "global", "tag"];

function reader(bytes, pos = 0) {
  const r = {
    pos,
    u8: () => bytes[r.pos++],
    leb: () => {
      let result = 0, shift = 0, b;
      do { b = bytes[r.pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
      return result;
    },
    name: () => { const n = r.leb(); const s = Buffer.from(bytes.subarray(r.pos, r.pos + n)).toString("utf8"); r.pos += n; return s; },
  };
  return r;
}

/** The module's sections: [{id, start, end}] (start/end of the payload). */
function sections(bytes) {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) {
    throw new Error("not a core wasm module");
  }
  const out = [];
  const r = reader(bytes, 8);
  while (r.pos < bytes.length) {
    const id = r.u8();
    const size = r.leb();
    out.push({ id, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

function readModule(bytes) {
  const types = [], imports = [], exports = [];
  for (const s of sections(bytes)) {
    const r = reader(bytes, s.start);
    const limits = () => { const flags = r.u8(); r.leb(); if (flags & 1) r.leb(); };
    if (s.id === 1) { // type
      for (let n = r.leb(); n > 0; n--) {
        if (r.u8() !== 0x60) throw new Error("unsupported type form");
        const params = [], results = [];
        for (let k = r.leb(); k > 0; k--) params.push(VALTYPES[r.u8()] ?? "?");
        for (let k = r.leb(); k > 0; k--) results.push(VALTYPES[r.u8()] ?? "?");
        types.push([params, results]);
      }
    } else if (s.id === 2) { // import
      for (let n = r.leb(); n > 0; n--) {
        const module = r.name(), field = r.name(), kind = r.u8();
        const imp = { module, name: field, kind: KINDS[kind] ?? String(kind) };
        if (kind === 0) imp.type = types[r.leb()];
        else if (kind === 1) { r.u8(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { r.u8(); r.u8(); }
        else if (kind === 4) { r.u8(); r.leb(); }
        imports.push(imp);
      }
    } else if (s.id === 7) { // export
      for (let n = r.leb(); n > 0; n--) {
        const field = r.name(), kind = r.u8();
        r.leb();
        exports.push({ name: field, kind: KINDS[kind] ?? String(kind) });
      }
    }
  }
  return { imports, exports };
}

/** The payload of custom section `wanted`, as text, or null. */
function customSection(bytes, wanted) {
  for (const s of sections(bytes)) {
    if (s.id !== 0) continue;
    const r = reader(bytes, s.start);
    const name = r.name();
    if (name === wanted) return Buffer.from(bytes.subarray(r.pos, s.end)).toString("utf8");
  }
  return null;
}

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/**
 * Rewrites the data section smaller, with the same memory contents at instantiation:
 *
 * 1. Drops the segments that hold nothing but the allocator word (BLOCK.mmInfo) of a static
 *    string. asc lays out every string literal as a runtime object (mmInfo, gcInfo, gcInfo2,
 *    rtId, rtSize, payload) and emits the non-zero mmInfo as a segment of its own, 12 bytes
 *    before the segment with rtId = 2 (String) and the text. The allocator reads mmInfo only
 *    for heap blocks it frees or resizes; strings are immutable and static ones are never
 *    freed or resized (the `minimal` runtime's collector links static objects but never sizes
 *    them), so the word is dead.
 * 2. Merges segments that are adjacent in memory, or apart by fewer zero bytes than a segment
 *    header costs (memory starts zeroed, so writing the gap's zeros changes nothing). asc emits
 *    one segment per `memory.data` (each `lit("...")`), laid out back to back.
 *
 * Applied only when every data segment is active with a constant offset (asc's layout);
 * otherwise the module is left as it is.
 */
const MERGE_GAP = 6; // a segment header: flags, i32.const, offset (2-3 bytes), end, size
function shrink(bytes) {
  const secs = sections(bytes);
  const data = secs.find((s) => s.id === 11);
  if (!data) return bytes;
  const r = reader(bytes, data.start);
  const segments = [];
  for (let n = r.leb(); n > 0; n--) {
    const flags = r.leb();
    if (flags !== 0 || bytes[r.pos] !== 0x41) return bytes; // not `active, i32.const`
    r.pos++;
    let offset = 0, shift = 0, b; // signed LEB
    do { b = bytes[r.pos++]; offset |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    if (shift < 32 && (b & 0x40)) offset |= -1 << shift;
    if (bytes[r.pos++] !== 0x0b) return bytes;
    const size = r.leb();
    segments.push({ offset, payload: bytes.subarray(r.pos, r.pos + size) });
    r.pos += size;
  }
  const starts = new Map(segments.map((s) => [s.offset, s]));
  const live = segments.filter((s) => {
    const text = starts.get(s.offset + 12);
    return !(s.payload.length <= 4 && text && text.payload.length >= 8 && text.payload.readUInt32LE(0) === 2);
  }).sort((x, y) => x.offset - y.offset);
  const merged = [];
  for (const s of live) {
    const last = merged[merged.length - 1];
    const gap = last ? s.offset - (last.offset + last.payload.length) : -1;
    if (gap >= 0 && gap <= MERGE_GAP) last.payload = Buffer.concat([last.payload, Buffer.alloc(gap), s.payload]);
    else merged.push({ offset: s.offset, payload: s.payload });
  }
  if (merged.length === segments.length) return bytes;
  const sleb = (n) => { // signed LEB128 of an i32
    const out = [];
    for (;;) {
      const byte = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(byte & 0x40)) || (n === -1 && (byte & 0x40))) { out.push(byte); return out; }
      out.push(byte | 0x80);
    }
  };
  const body = Buffer.concat([
    Buffer.from(leb(merged.length)),
    ...merged.flatMap((s) => [Buffer.from([0, 0x41, ...sleb(s.offset), 0x0b, ...leb(s.payload.length)]), s.payload]),
  ]);
  const parts = [bytes.subarray(0, 8)];
  for (const s of secs) {
    let payload = bytes.subarray(s.start, s.end);
    if (s === data) payload = body;
    else if (s.id === 12) payload = Buffer.from(leb(merged.length)); // datacount
    parts.push(Buffer.from([s.id, ...leb(payload.length)]), payload);
  }
  return Buffer.concat(parts);
}

const sig = ([params, results]) => `(${params.join(", ")}) -> ${results.join(", ") || "()"}`;

function checkModule(bytes) {
  const { imports, exports } = readModule(bytes);
  const errors = [];
  for (const imp of imports) {
    const want = imp.module === ABI_MODULE && imp.kind === "func" ? ABI_IMPORTS[imp.name] : undefined;
    if (!want) {
      errors.push(`import ${imp.module}.${imp.name} (${imp.kind}) is not part of ABI ${ABI_MODULE}` +
        (imp.module === "env" ? hintFor(imp.name) : ""));
    } else if (sig(imp.type) !== sig(want)) {
      errors.push(`import ${imp.module}.${imp.name} has signature ${sig(imp.type)}, ABI wants ${sig(want)}`);
    }
  }
  const memory = exports.find((e) => e.name === "memory");
  if (!memory || memory.kind !== "memory") errors.push("module does not export its memory as `memory`");
  for (const want of ["edgehost_fetch", ...ACTOR_EXPORTS]) {
    const e = exports.find((x) => x.name === want);
    if (e && e.kind !== "func") errors.push(`export \`${want}\` is not a function`);
  }
  const actorExports = ACTOR_EXPORTS.filter((n) => exports.some((e) => e.name === n));
  if (actorExports.length === 1) errors.push(`module exports ${actorExports[0]} without its partner`);
  return { imports, exports, errors, hasFetch: exports.some((e) => e.name === "edgehost_fetch") };
}

function hintFor(name) {
  if (name.startsWith("Date")) return ": use nowMs() from edgehost-sdk instead of Date";
  if (name === "abort" || name === "trace" || name === "seed") return ": does the entry file import \"edgehost-sdk/assembly\"?";
  return "";
}

/**
 * The first error in asc's output as `file:line:col: message`, or null. asc prints
 *   ERROR TS2304: Cannot find name 'foo'.
 *      :
 *    4 │ return Response.text(foo);
 *      │                      ~~~
 *      └─ in src/index.ts(4,24)
 */
function firstAscError(text) {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^ERROR(?: (?:TS|AS)\d+)?: (.*)$/.exec(lines[i]);
    if (!m) continue;
    for (let k = i + 1; k < lines.length && !/^(ERROR|WARNING|INFO|FAILURE)\b/.test(lines[k]); k++) {
      const at = /└─ in (.+)\((\d+),(\d+)\)\s*$/.exec(lines[k]);
      if (at) return `${at[1]}:${at[2]}:${at[3]}: ${m[1]}`;
    }
    return `${entry}: ${m[1]}`;
  }
  return null;
}

// ---- main ----------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
let { entry, outFile } = args;
if (entry === null || outFile === null) {
  let manifest = {};
  if (fs.existsSync("telnyx.toml")) manifest = readManifest("telnyx.toml");
  else if (entry === null) fail("telnyx.toml", "not found: run edgehost-asc in the function's directory, or give the entry file");
  if (entry === null) entry = manifest.main ?? fail("telnyx.toml", "no `main = \"src/index.ts\"` (the entry file)");
  if (outFile === null) outFile = path.join("build", `${manifest.name ?? path.basename(entry, ".ts")}.wasm`);
}
if (!fs.existsSync(entry)) fail(entry, "entry file not found");

const explicitRuntime = args.rest.some((a) => a === "--runtime" || a.startsWith("--runtime="));

/** One asc run; its output is held back so that a run we redo leaves no trace. */
async function compile(runtime) {
  const ascArgs = [entry, "--outFile", outFile, ...SDK_FLAGS, ...(runtime ? ["--runtime", runtime] : []), ...args.rest];
  let diagnostics = "";
  const stderr = { write(chunk) { diagnostics += chunk; return true; } };
  ActorTransform.autoRuntime = runtime === DEFAULT_RUNTIME;
  const { error } = await asc.main(ascArgs, { stdout: process.stdout, stderr, transforms: [ActorTransform, LiteralsTransform] });
  return { ascArgs, error, diagnostics };
}

let run = await compile(explicitRuntime ? null : DEFAULT_RUNTIME);
let gcReason = null;
if (run.error?.code === "EDGEHOST_NEEDS_GC_RUNTIME") {
  gcReason = run.error.edgehost.blocker;
  run = await compile(ACTOR_RUNTIME); // actor classes that need a GC
}
console.log(`edgehost-asc: asc ${run.ascArgs.join(" ")}`);
if (!run.error && ActorTransform.lastMemory === "arena") {
  console.log("  actor memory: arena (stub runtime; each turn's allocations are freed when it ends)");
} else if (!run.error && ActorTransform.lastMemory === "gc") {
  console.log(`  actor memory: minimal runtime, a GC run ends each turn${gcReason ? ` (not arena: ${gcReason})` : ""}`);
}
process.stderr.write(run.diagnostics);
if (run.error) {
  const t = run.error.edgehost; // a transform error
  if (t) fail(t.location ? `${t.location.file}:${t.location.line}:${t.location.column}` : entry, t.message);
  if (run.diagnostics.includes("'edgehost_abort' not found")) {
    fail(entry, "the program does not use the SDK: import { Request, Response } from \"edgehost-sdk/assembly\"");
  }
  const first = firstAscError(run.diagnostics);
  if (first) fail(null, first);
  fail(entry, run.error.message);
}

let bytes = fs.readFileSync(outFile);
if (args.shrink) {
  bytes = shrink(bytes);
  fs.writeFileSync(outFile, bytes);
}
const { imports, exports, errors, hasFetch } = checkModule(bytes);
console.log(`  imports: ${imports.map((i) => `${i.module}.${i.name}`).join(", ") || "(none)"}`);
console.log(`  exports: ${exports.map((e) => e.name).join(", ")}`);
const actorsSection = customSection(bytes, "edgehost.actors");
if (actorsSection !== null) console.log(`  edgehost.actors: ${actorsSection}`);
if (errors.length) {
  fs.rmSync(outFile, { force: true });
  for (const e of errors.slice(1)) process.stderr.write(`${outFile}: ${e}\n`);
  fail(outFile, errors[0] + (errors.length > 1 ? ` (and ${errors.length - 1} more above)` : ""));
}
if (!hasFetch && actorsSection === null) {
  console.warn("edgehost-asc: warning: no `edgehost_fetch` export (add `export function fetch(req: Request): Response` to the entry file)");
}
console.log(`built ${outFile} (${bytes.length} bytes)`);
