#!/usr/bin/env node
// edgehost-asc: compile an AssemblyScript edgehost function to build/<name>.wasm.
//
//   edgehost-asc                       # entry and name from ./telnyx.toml (main, name)
//   edgehost-asc src/index.ts          # output build/index.wasm
//   edgehost-asc src/x.ts -o out.wasm  # explicit output; other arguments go to asc as-is
//
// It runs asc with the flags the SDK relies on (see README.md) and the actor transform
// (transform/actors.js), then checks the module against ABI v1: every import must be an
// edgehost_v1 function with its exact signature, and `memory` must be exported.
//
// Runtime: `stub` (bump allocator, never frees) unless the program has actor classes, which
// get `minimal` (see README.md, "Runtime"). An explicit --runtime is used as given.

import fs from "node:fs";
import path from "node:path";
import asc from "assemblyscript/asc";
import ActorTransform from "../transform/actors.js";

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

function fail(message) {
  console.error(`edgehost-asc: ${message}`);
  process.exit(1);
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
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o" || a === "--outFile") outFile = argv[++i];
    else if (a.startsWith("--outFile=")) outFile = a.slice("--outFile=".length);
    else if (!a.startsWith("-") && /\.ts$/.test(a) && entry === null) entry = a;
    else rest.push(a);
  }
  return { entry, outFile, rest };
}

// ---- a minimal wasm reader: the type, import and export sections ------------------------

const VALTYPES = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["func", "table", "memory", "global", "tag"];

function readModule(bytes) {
  let pos = 0;
  const u8 = () => bytes[pos++];
  const leb = () => {
    let result = 0, shift = 0, b;
    do { b = bytes[pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return result;
  };
  const name = () => { const n = leb(); const s = Buffer.from(bytes.subarray(pos, pos + n)).toString("utf8"); pos += n; return s; };
  const limits = () => { const flags = u8(); leb(); if (flags & 1) leb(); };
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) {
    throw new Error("not a core wasm module");
  }
  pos = 8;
  const types = [], imports = [], exports = [];
  while (pos < bytes.length) {
    const id = u8();
    const size = leb();
    const end = pos + size;
    if (id === 1) { // type
      for (let n = leb(); n > 0; n--) {
        if (u8() !== 0x60) throw new Error("unsupported type form");
        const params = [], results = [];
        for (let k = leb(); k > 0; k--) params.push(VALTYPES[u8()] ?? "?");
        for (let k = leb(); k > 0; k--) results.push(VALTYPES[u8()] ?? "?");
        types.push([params, results]);
      }
    } else if (id === 2) { // import
      for (let n = leb(); n > 0; n--) {
        const module = name(), field = name(), kind = u8();
        const imp = { module, name: field, kind: KINDS[kind] ?? String(kind) };
        if (kind === 0) imp.type = types[leb()];
        else if (kind === 1) { u8(); limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) { u8(); u8(); }
        else if (kind === 4) { u8(); leb(); }
        imports.push(imp);
      }
    } else if (id === 7) { // export
      for (let n = leb(); n > 0; n--) {
        const field = name(), kind = u8();
        leb();
        exports.push({ name: field, kind: KINDS[kind] ?? String(kind) });
      }
    }
    pos = end;
  }
  return { imports, exports };
}

const sig = ([params, results]) => `(${params.join(", ")}) -> ${results.join(", ") || "()"}`;

function checkModule(file) {
  const { imports, exports } = readModule(fs.readFileSync(file));
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

/** The payload of custom section `name`, or null. */
function customSection(bytes, wanted) {
  let pos = 8;
  const leb = () => {
    let result = 0, shift = 0, b;
    do { b = bytes[pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return result;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 0) {
      const n = leb();
      const name = Buffer.from(bytes.subarray(pos, pos + n)).toString("utf8");
      if (name === wanted) return Buffer.from(bytes.subarray(pos + n, end)).toString("utf8");
    }
    pos = end;
  }
  return null;
}

function hintFor(name) {
  if (name.startsWith("Date")) return ": use nowMs() from edgehost-sdk instead of Date";
  if (name === "abort" || name === "trace" || name === "seed") return ": does the entry file import \"edgehost-sdk/assembly\"?";
  return "";
}

// ---- main ----------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
let { entry, outFile } = args;
if (entry === null || outFile === null) {
  let manifest = {};
  if (fs.existsSync("telnyx.toml")) manifest = readManifest("telnyx.toml");
  if (entry === null) entry = manifest.main ?? fail("no entry file given and no `main` in ./telnyx.toml");
  if (outFile === null) outFile = path.join("build", `${manifest.name ?? path.basename(entry, ".ts")}.wasm`);
}
if (!fs.existsSync(entry)) fail(`entry file ${entry} not found`);

const explicitRuntime = args.rest.some((a) => a === "--runtime" || a.startsWith("--runtime="));

/** One asc run; stderr is held back so that a run we redo leaves no trace. */
async function compile(runtime) {
  const ascArgs = [entry, "--outFile", outFile, ...SDK_FLAGS, ...(runtime ? ["--runtime", runtime] : []), ...args.rest];
  let diagnostics = "";
  const stderr = { write(chunk) { diagnostics += chunk; return true; } };
  ActorTransform.autoRuntime = runtime === DEFAULT_RUNTIME;
  const { error } = await asc.main(ascArgs, { stdout: process.stdout, stderr, transforms: [ActorTransform] });
  return { ascArgs, error, diagnostics };
}

let run = await compile(explicitRuntime ? null : DEFAULT_RUNTIME);
if (run.error?.code === "EDGEHOST_NEEDS_GC_RUNTIME") {
  run = await compile(ACTOR_RUNTIME); // the program has actor classes
}
console.log(`edgehost-asc: asc ${run.ascArgs.join(" ")}`);
process.stderr.write(run.diagnostics);
if (run.error) {
  if (run.diagnostics.includes("'edgehost_abort' not found")) {
    fail(`asc failed: ${run.error.message}\n  the entry file must import the SDK: export { edgehost_fetch } from "edgehost-sdk/assembly";`);
  }
  fail(`asc failed: ${run.error.message}`);
}

const { imports, exports, errors, hasFetch } = checkModule(outFile);
const size = fs.statSync(outFile).size;
console.log(`edgehost-asc: ${outFile}: ${size} bytes`);
console.log(`  imports: ${imports.map((i) => `${i.module}.${i.name}`).join(", ") || "(none)"}`);
console.log(`  exports: ${exports.map((e) => e.name).join(", ")}`);
const actorsSection = customSection(fs.readFileSync(outFile), "edgehost.actors");
if (actorsSection !== null) console.log(`  edgehost.actors: ${actorsSection}`);
if (!hasFetch) console.warn("edgehost-asc: warning: no `edgehost_fetch` export (add `export { edgehost_fetch } from \"edgehost-sdk/assembly\"`)");
if (errors.length) {
  fs.rmSync(outFile, { force: true });
  fail(`${outFile} does not fit ABI ${ABI_MODULE}:\n  ${errors.join("\n  ")}`);
}
