#!/usr/bin/env node
// edgehost-asc: compile an AssemblyScript edgehost function to build/<name>.wasm.
//
//   edgehost-asc                       # entry and name from ./telnyx.toml (main, name)
//   edgehost-asc src/index.ts          # output build/index.wasm
//   edgehost-asc src/x.ts -o out.wasm  # explicit output; other arguments go to asc as-is
//
// It runs asc with the flags the SDK relies on (see README.md), then checks the module
// against ABI v1: every import must be an edgehost_v1 function with its exact signature,
// and `memory` must be exported.

import fs from "node:fs";
import path from "node:path";
import asc from "assemblyscript/asc";

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
};

// -O3: speed-optimized release build.
// --runtime stub: bump allocator that never frees; every request runs in a fresh instance,
//   so a GC would only cost size and time.
// --use abort=/trace=/seed=: route the builtins asc would import from "env" to the SDK's
//   implementations in assembly/abort.ts (set_error_message + trap, log, random_fill).
// Memory stays exported as "memory" (no --noExportMemory), the runtime is not exported
// (no --exportRuntime), and top-level statements run as the wasm start function.
const SDK_FLAGS = [
  "-O3",
  "--runtime", "stub",
  "--use", "abort=edgehost_abort",
  "--use", "trace=edgehost_trace",
  "--use", "seed=edgehost_seed",
];

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
  const fetch = exports.find((e) => e.name === "edgehost_fetch");
  if (fetch && fetch.kind !== "func") errors.push("export `edgehost_fetch` is not a function");
  return { imports, exports, errors, hasFetch: !!fetch };
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

const ascArgs = [entry, "--outFile", outFile, ...SDK_FLAGS, ...args.rest];
console.log(`edgehost-asc: asc ${ascArgs.join(" ")}`);
let diagnostics = "";
const stderr = { write(chunk) { diagnostics += chunk; return process.stderr.write(chunk); } };
const { error } = await asc.main(ascArgs, { stdout: process.stdout, stderr });
if (error) {
  if (diagnostics.includes("'edgehost_abort' not found")) {
    fail(`asc failed: ${error.message}\n  the entry file must import the SDK: export { edgehost_fetch } from "edgehost-sdk/assembly";`);
  }
  fail(`asc failed: ${error.message}`);
}

const { imports, exports, errors, hasFetch } = checkModule(outFile);
const size = fs.statSync(outFile).size;
console.log(`edgehost-asc: ${outFile}: ${size} bytes`);
console.log(`  imports: ${imports.map((i) => `${i.module}.${i.name}`).join(", ") || "(none)"}`);
console.log(`  exports: ${exports.map((e) => e.name).join(", ")}`);
if (!hasFetch) console.warn("edgehost-asc: warning: no `edgehost_fetch` export (add `export { edgehost_fetch } from \"edgehost-sdk/assembly\"`)");
if (errors.length) {
  fs.rmSync(outFile, { force: true });
  fail(`${outFile} does not fit ABI ${ABI_MODULE}:\n  ${errors.join("\n  ")}`);
}
