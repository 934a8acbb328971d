// The edgehost build transform for asc (`--transform`; edgehost-asc registers it itself).
//
// afterParse: looks at the user sources of the program (the entry file and the files it
//   imports, directly or not: the entry roots the build) and adds one generated source to the
//   program, as an extra entry file, that exports
//     edgehost_fetch(): i32        if the entry file has `export function fetch(req: Request): Response`
//     edgehost_actor_init(): i32   input class:str name:str     constructs an actor instance
//     edgehost_actor_call(): i32   input method:str args:bytes  runs one public method
//   (guest-sdk/ABI.md), the last two for every exported class that extends StatefulActor.
//   A program with neither gets nothing: no exports, no code.
// afterCompile: drops the wasm export `fetch` (edgehost_fetch is the entry point) and adds the
//   custom section `edgehost.actors`:
//     {"version":1,"classes":[{"name":"Account","methods":["balance","debit","deposit"],
//      "signatures":{"balance":{"params":[],"result":"i64"},
//                    "deposit":{"params":[["amount","i64"]],"result":"i64"}, ...}}]}
//   `methods` is what the host reads; `signatures` feeds `edgehost types`: AS type names as
//   written (`string | null` included), JsonText as "json", no result as "void", and
//   "required": n when the trailing parameters from n on are optional.
//
// Callable methods: instance methods whose names do not start with "_", that are not private,
// protected, static, getters/setters or constructors, declared by the class or by a user class
// it extends. `fetch` and `alarm` are entry points of the platform, not RPC methods, and are
// left out. Parameters: bool, integer types, f32/f64, string, string | null, JsonText (raw
// JSON); trailing parameters may have defaults. Results: those, or void (JSON null).
//
// Set EDGEHOST_ASC_DUMP_ACTORS=1 to print the generated source.

import { Transform } from "assemblyscript/transform";
import { NodeKind, CommonFlags, SourceKind, ParameterKind, LiteralKind } from "assemblyscript";

const BASE_CLASS = "StatefulActor";
const SECTION = "edgehost.actors";
const GENERATED = "__edgehost_entry";
const RUNTIME_NAMES = { stub: 0, minimal: 1, incremental: 2 };
const NOT_RPC = new Set(["fetch", "alarm"]);
const SCALAR_TYPES = new Set([
  "bool", "boolean", "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize",
  "f32", "f64", "number", "string", "JsonText",
]);
const NULLABLE_TYPES = new Set(["string", "JsonText"]);

/**
 * An error asc prints as "FAILURE <message>" (without a JavaScript stack). With `at` (a node),
 * `err.edgehost.location` = {file, line, column}: edgehost-asc prints `error: file:line:col: message`.
 */
function transformError(message, at, code) {
  const location = at ? locate(at) : null;
  const err = new Error(`edgehost transform: ${message}` +
    (location ? ` (at ${location.file}:${location.line}:${location.column})` : ""));
  err.stack = err.message;
  err.edgehost = { message, location };
  if (code) err.code = code;
  return err;
}

function locate(node) {
  const src = node.range.source;
  const line = src.lineAt(node.range.start);
  return { file: src.normalizedPath, line, column: src.columnAt() };
}

function where(node) {
  const l = locate(node);
  return `${l.file}:${l.line}:${l.column}`;
}

/** Last identifier of a (possibly qualified) type name: `sdk.StatefulActor` -> "StatefulActor". */
function simpleTypeName(typeNode) {
  if (!typeNode || typeNode.kind !== NodeKind.NamedType) return null;
  let name = typeNode.name;
  while (name.next) name = name.next;
  return name.identifier.text;
}

/** The type of a parameter or result as text for the generated source, or throws. */
function typeText(typeNode, what, allowVoid) {
  const name = simpleTypeName(typeNode);
  if (name === "" || name === null && typeNode.kind === NodeKind.NamedType) {
    throw transformError(`${what}: annotate the type`, typeNode);
  }
  if (typeNode.kind === NodeKind.NamedType && !(typeNode.typeArguments && typeNode.typeArguments.length) && !typeNode.name.next) {
    if (allowVoid && name === "void") return "void";
    if (SCALAR_TYPES.has(name)) {
      if (!typeNode.isNullable) return name;
      if (NULLABLE_TYPES.has(name)) return `${name} | null`;
    }
  }
  throw transformError(
    `${what}: type ${typeNode.range.toString()} is not supported; ` +
    `use bool, an integer type, f32/f64, string, string | null or JsonText` + (allowVoid ? ", or void" : ""),
    typeNode
  );
}

/** A type as the signature in the actor section gives it: JsonText is "json". */
function signatureType(text) {
  return text.replace(/\bJsonText\b/, "json");
}

function relativeImport(fromInternalPath, toInternalPath) {
  if (toInternalPath.startsWith("~lib/")) return toInternalPath;
  const from = fromInternalPath.split("/").slice(0, -1);
  const to = toInternalPath.split("/");
  let i = 0;
  while (i < from.length && i < to.length - 1 && from[i] === to[i]) i++;
  const up = from.length - i;
  const rest = to.slice(i).join("/");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

/** The SDK source that declares `name` (an exported class or function), or null. */
function sdkSource(parser, kind, name) {
  return parser.sources.find((s) => s.statements.some(
    (st) => st.kind === kind && st.name && st.name.text === name && (st.flags & CommonFlags.Export)
  )) || null;
}

// ---- arena memory ----------------------------------------------------------------------------
//
// An activation's instance serves many calls. With the `stub` runtime (bump allocation, no
// GC) the generated code can free everything a call allocated by moving the heap's end back
// to where it was after the instance was constructed ("arena": see __actor_end in
// assembly/actor.ts). That is only sound if nothing allocated during a call is still
// reachable after it: the actor classes have no fields (their state is in storage; `ctx` is
// set before the mark), and the program has no module-level or static variable that a call
// could point at a new object. Otherwise the module gets the `minimal` runtime and a GC run
// after every turn. These are the checks; each returns the first reason it finds, or null.

/**
 * A constant that holds no heap object: a number, string, bool or null literal, or
 * `lit("...")` (static UTF-8 bytes, a u64 value: see transform/literals.js).
 */
function isConstant(expr) {
  if (!expr) return false;
  if (expr.kind === NodeKind.Call && expr.expression.kind === NodeKind.Identifier) {
    return expr.args.length === 1 && expr.args[0].kind === NodeKind.Literal &&
      expr.args[0].literalKind === LiteralKind.String && isSdkLit(expr.range.source, expr.expression.text);
  }
  if (expr.kind === NodeKind.True || expr.kind === NodeKind.False || expr.kind === NodeKind.Null) return true;
  if (expr.kind === NodeKind.Literal) {
    return expr.literalKind === LiteralKind.Integer || expr.literalKind === LiteralKind.Float ||
      expr.literalKind === LiteralKind.String;
  }
  if (expr.kind === NodeKind.UnaryPrefix || expr.kind === NodeKind.Parenthesized) return isConstant(expr.operand || expr.expression);
  return false;
}

/** True if `name` is the SDK's `lit` in `source`: imported from edgehost-sdk under that name. */
function isSdkLit(source, name) {
  return source.statements.some((st) => st.kind === NodeKind.Import && st.declarations &&
    /(^|\/)edgehost-sdk(\/|$)/.test(st.path.value) &&
    st.declarations.some((d) => d.foreignName.text === "lit" && d.name.text === name));
}

/** `new C(...)` of a user class C whose objects cannot change: readonly fields holding constants or ActorNamespaces. */
function isFrozenNew(expr, classes) {
  if (!expr || expr.kind !== NodeKind.New) return false;
  const name = expr.typeName.identifier.text;
  if (name === "ActorNamespace") return expr.args.every(isConstant);
  const cls = classes.get(name);
  if (!cls) return false;
  return cls.members.every((m) => m.kind !== NodeKind.FieldDeclaration ||
    (!(m.flags & CommonFlags.Static) && (m.flags & CommonFlags.Readonly) &&
      (isConstant(m.initializer) || (m.initializer && m.initializer.kind === NodeKind.New &&
        m.initializer.typeName.identifier.text === "ActorNamespace" && m.initializer.args.every(isConstant)))));
}

function arenaBlocker(userSources, actors) {
  for (const a of actors) {
    for (const c of a.chain) {
      const field = c.decl.members.find((m) => m.kind === NodeKind.FieldDeclaration && !(m.flags & CommonFlags.Static));
      if (field) return `class ${c.decl.name.text} has a field (${field.name.text}, at ${where(field)})`;
    }
  }
  const classes = new Map();
  const visit = [];
  for (const source of userSources) visit.push(...source.statements);
  for (const st of visit) if (st.kind === NodeKind.ClassDeclaration) classes.set(st.name.text, st);
  while (visit.length) {
    const st = visit.pop();
    if (st.kind === NodeKind.NamespaceDeclaration) {
      visit.push(...st.members);
    } else if (st.kind === NodeKind.Variable) {
      for (const d of st.declarations) {
        if (!(d.flags & CommonFlags.Const)) return `module-level variable ${d.name.text} (at ${where(d)})`;
        if (!isConstant(d.initializer) && !isFrozenNew(d.initializer, classes)) {
          return `module-level constant ${d.name.text} holds an object (at ${where(d)})`;
        }
      }
    } else if (st.kind === NodeKind.ClassDeclaration) {
      for (const m of st.members) {
        if (m.kind === NodeKind.FieldDeclaration && (m.flags & CommonFlags.Static) &&
          !((m.flags & CommonFlags.Readonly) && isConstant(m.initializer))) {
          return `static field ${st.name.text}.${m.name.text} (at ${where(m)})`;
        }
      }
    }
  }
  return null;
}

export default class EdgehostActorTransform extends Transform {
  /**
   * Set by edgehost-asc: when actor classes are found in a build that uses the `stub` runtime
   * (never frees), fail with code EDGEHOST_NEEDS_GC_RUNTIME so the caller can rebuild with
   * `minimal`. Otherwise only warn.
   */
  static autoRuntime = false;
  /** How the last program's actor turns free memory ("arena", "gc" or null): for edgehost-asc's report. */
  static lastMemory = null;

  /** The classes found by afterParse, as the actor section lists them. */
  actorClasses = [];
  /** True if the entry file exports `fetch` (and the generated code exports edgehost_fetch). */
  hasFetch = false;
  /** How actor turns free memory: "arena" (stub runtime, reset after every turn), "gc", or null. */
  memory = null;

  afterParse(parser) {
    const userSources = parser.sources.filter((s) => !s.internalPath.startsWith("~lib/") &&
      (s.sourceKind === SourceKind.User || s.sourceKind === SourceKind.UserEntry));
    const entry = userSources.find((s) => s.sourceKind === SourceKind.UserEntry);
    if (!entry) return;

    const fetchFn = this.findFetch(entry);
    const actors = this.findActors(userSources);
    if (!actors.length && !fetchFn) return;

    let arena = false;
    if (actors.length) {
      const runtime = parser.options ? parser.options.runtime : undefined;
      if (runtime === RUNTIME_NAMES.stub) {
        const blocker = arenaBlocker(userSources, actors);
        if (blocker === null) {
          arena = true;
        } else if (EdgehostActorTransform.autoRuntime) {
          const err = transformError(`actor memory needs the minimal runtime: ${blocker}`, null, "EDGEHOST_NEEDS_GC_RUNTIME");
          err.edgehost.blocker = blocker;
          throw err;
        } else {
          this.stderr.write(`edgehost transform: warning: --runtime stub never frees memory here (${blocker}), ` +
            "and an activation's instance serves many calls; use --runtime minimal\n");
        }
      }
    }
    this.memory = !actors.length ? null : arena ? "arena" : "gc";
    EdgehostActorTransform.lastMemory = this.memory;

    const dir = entry.internalPath.split("/").slice(0, -1).join("/");
    const genInternal = (dir ? `${dir}/` : "") + GENERATED;
    const rel = (p) => relativeImport(genInternal, p);
    const out = ["// Generated by edgehost-sdk/transform/actors.js: the entry points of this module."];
    if (fetchFn) {
      const sdk = sdkSource(parser, NodeKind.FunctionDeclaration, "writeResponse");
      if (!sdk) throw transformError(`export function fetch needs the SDK: import { Request, Response } from "edgehost-sdk/assembly"`, fetchFn);
      out.push(...generateFetch(rel(sdk.internalPath), rel(entry.internalPath)));
      this.hasFetch = true;
    }
    if (actors.length) {
      const sdk = sdkSource(parser, NodeKind.ClassDeclaration, BASE_CLASS);
      if (!sdk) throw transformError(`${BASE_CLASS} is not part of the program (import it from "edgehost-sdk/assembly")`);
      out.push(...generateActors(actors, rel(sdk.internalPath), rel, arena));
      this.actorClasses = actors.map((a) => section(a));
    }
    const text = out.join("\n") + "\n";
    if (process.env.EDGEHOST_ASC_DUMP_ACTORS) this.stderr.write(`// ${genInternal}.ts\n${text}\n`);
    parser.parseFile(text, `${genInternal}.ts`, true);
  }

  /** The entry file's `export function fetch(req: Request): Response`, checked, or null. */
  findFetch(entry) {
    let fn = null;
    for (const st of entry.statements) {
      if (st.kind === NodeKind.FunctionDeclaration && st.name.text === "fetch" && (st.flags & CommonFlags.Export)) fn = st;
    }
    if (!fn) return null;
    const sig = fn.signature;
    const resultName = simpleTypeName(sig.returnType);
    if (sig.parameters.length !== 1 || resultName !== "Response") {
      throw transformError("the fetch handler must be `export function fetch(req: Request): Response`", fn);
    }
    for (const st of entry.statements) {
      if (st.kind === NodeKind.Export && st.members && st.members.some((m) => m.exportedName.text === "edgehost_fetch")) {
        throw transformError("export either `function fetch` or `edgehost_fetch` (with onFetch), not both", st);
      }
    }
    return fn;
  }

  /** Every exported, non-abstract user class whose `extends` chain reaches StatefulActor. */
  findActors(userSources) {
    // All top-level user classes, by name (a name declared twice is resolved per source first).
    const declared = [];
    for (const source of userSources) {
      for (const stmt of source.statements) {
        if (stmt.kind === NodeKind.ClassDeclaration) declared.push({ decl: stmt, source });
      }
    }
    const byName = (name, source) =>
      declared.find((c) => c.decl.name.text === name && c.source === source) ||
      declared.find((c) => c.decl.name.text === name);
    // The chain of user classes from `cls` up to StatefulActor, or null if it does not get there.
    const chainOf = (cls) => {
      const chain = [];
      const seen = new Set();
      let cur = cls;
      while (cur && !seen.has(cur)) {
        seen.add(cur);
        chain.push(cur);
        const base = simpleTypeName(cur.decl.extendsType);
        if (base === null) return null;
        if (base === BASE_CLASS) return chain;
        cur = byName(base, cur.source);
      }
      return null;
    };

    const actors = [];
    for (const cls of declared) {
      const chain = chainOf(cls);
      if (!chain) continue;
      const decl = cls.decl;
      if (decl.flags & CommonFlags.Abstract) continue;
      if (!(decl.flags & CommonFlags.Export)) {
        this.stderr.write(`edgehost transform: warning: class ${decl.name.text} extends ${BASE_CLASS} ` +
          `but is not exported, so it is not an actor (at ${where(decl)})\n`);
        continue;
      }
      if (decl.typeParameters && decl.typeParameters.length) {
        throw transformError(`actor class ${decl.name.text} must not be generic`, decl);
      }
      actors.push(this.describe(cls, chain));
    }
    const names = new Map();
    for (const a of actors) {
      if (names.has(a.name)) throw transformError(`two actor classes are named ${a.name}`, a.decl);
      names.set(a.name, a);
    }
    return actors;
  }

  /** The callable surface of one actor class. */
  describe(cls, chain) {
    const decl = cls.decl;
    const name = decl.name.text;
    const ctor = decl.members.find((m) => m.kind === NodeKind.MethodDeclaration && (m.flags & CommonFlags.Constructor));
    if (ctor && ctor.signature.parameters.some((p) => p.parameterKind === ParameterKind.Default && !p.initializer)) {
      throw transformError(`the constructor of actor class ${name} must take no arguments; ` +
        `it reads the instance from this.ctx`, ctor);
    }
    const methods = [];
    const seen = new Set();
    for (const c of chain) { // the class first: its methods override its bases'
      for (const m of c.decl.members) {
        if (m.kind !== NodeKind.MethodDeclaration) continue;
        const mname = m.name.text;
        const skip = CommonFlags.Static | CommonFlags.Private | CommonFlags.Protected |
          CommonFlags.Get | CommonFlags.Set | CommonFlags.Constructor;
        if ((m.flags & skip) || mname.startsWith("_") || NOT_RPC.has(mname) || seen.has(mname)) continue;
        seen.add(mname);
        const what = `${name}.${mname}`;
        if (m.typeParameters && m.typeParameters.length) {
          throw transformError(`${what} is generic; actor methods cannot be`, m);
        }
        const params = m.signature.parameters.map((p, i) => {
          if (p.parameterKind === ParameterKind.Rest) {
            throw transformError(`${what}: rest parameters are not supported`, p);
          }
          return {
            name: p.name.text,
            type: typeText(p.type, `${what} parameter ${i + 1} (${p.name.text})`, false),
            optional: p.parameterKind === ParameterKind.Optional || p.initializer !== null,
          };
        });
        let required = params.length;
        while (required > 0 && params[required - 1].optional) required--;
        if (params.slice(0, required).some((p) => p.optional)) {
          throw transformError(`${what}: only trailing parameters may be optional`, m);
        }
        const result = typeText(m.signature.returnType, `${what} result`, true);
        methods.push({ name: mname, params, required, result });
      }
    }
    return { name, decl, chain, internalPath: cls.source.internalPath, methods };
  }

  afterCompile(module) {
    if (this.hasFetch) module.removeExport("fetch");
    if (!this.actorClasses.length) return;
    const json = JSON.stringify({ version: 1, classes: this.actorClasses });
    module.addCustomSection(SECTION, new TextEncoder().encode(json));
  }
}

/** One class of the actor section: name, sorted method names, and their signatures. */
function section(actor) {
  const methods = actor.methods.map((m) => m.name).sort();
  const signatures = {};
  for (const name of methods) {
    const m = actor.methods.find((x) => x.name === name);
    const sig = { params: m.params.map((p) => [p.name, signatureType(p.type)]), result: signatureType(m.result) };
    if (m.required < m.params.length) sig.required = m.required;
    signatures[name] = sig;
  }
  return { name: actor.name, methods, signatures };
}

/** The generated `edgehost_fetch`, calling the entry file's `fetch`. */
function generateFetch(sdkPath, entryPath) {
  return [
    `import { readRequest as __readRequest, writeResponse as __writeResponse } from "${sdkPath}";`,
    `import { fetch as __fetch } from "${entryPath.replace(/\.ts$/, "")}";`,
    "",
    "export function edgehost_fetch(): i32 {",
    "  __writeResponse(__fetch(__readRequest()));",
    "  return 0;",
    "}",
    "",
  ];
}

/** The generated actor entry points. */
function generateActors(actors, sdkPath, importPath, arena) {
  const out = [];
  out.push(`import { __ActorCall, __actor_init, __actor_end, __actor_error, JsonText } from "${sdkPath}";`);
  out.push(`const __arena = ${arena}; // free a turn's memory by resetting the heap (see __actor_end)`);
  actors.forEach((a, k) => out.push(`import { ${a.name} as __Actor${k} } from "${importPath(a.internalPath)}";`));
  out.push("");
  actors.forEach((a, k) => out.push(`let __actor${k}: __Actor${k} | null = null;`));
  out.push("");
  out.push("export function edgehost_actor_init(): i32 {");
  out.push("  let cls = __actor_init();");
  out.push(`  if (cls === null) return __actor_error("malformed input");`);
  actors.forEach((a, k) => {
    out.push(`  if (cls == ${JSON.stringify(a.name)}) {`);
    out.push(`    __actor${k} = new __Actor${k}();`);
    out.push("    return __actor_end(0, true, __arena);");
    out.push("  }");
  });
  out.push(`  return __actor_error("unknown actor class " + cls);`);
  out.push("}");
  out.push("");
  out.push("export function edgehost_actor_call(): i32 {");
  actors.forEach((a, k) => {
    out.push(`  let a${k} = __actor${k};`);
    out.push(`  if (a${k} !== null) return __actor_end(__call${k}(a${k}), false, __arena);`);
  });
  out.push(`  return __actor_error("actor not initialized");`);
  out.push("}");
  actors.forEach((a, k) => {
    out.push("");
    out.push(`function __call${k}(self: __Actor${k}): i32 {`);
    out.push(`  let c = new __ActorCall(${JSON.stringify(a.name)});`);
    out.push("  if (c.error !== null) return c.fail();");
    out.push("  let m = c.method;");
    for (const m of a.methods) {
      const total = m.params.length;
      out.push(`  if (m == ${JSON.stringify(m.name)}) {`);
      out.push(`    if (!c.expect(${JSON.stringify(m.name)}, ${m.required}, ${total})) return c.fail();`);
      for (let n = m.required; n <= total; n++) {
        const indent = n < total ? "      " : "    ";
        if (n < total) out.push(`    if (c.count == ${n}) {`);
        const args = [];
        for (let i = 0; i < n; i++) {
          out.push(`${indent}let p${i} = c.arg<${m.params[i].type}>(${i});`);
          args.push(`p${i}`);
        }
        if (n > 0) out.push(`${indent}if (c.error !== null) return c.fail();`);
        const call = `self.${m.name}(${args.join(", ")})`;
        if (m.result === "void") {
          out.push(`${indent}${call};`);
          out.push(`${indent}return c.done();`);
        } else {
          out.push(`${indent}return c.result<${m.result}>(${call});`);
        }
        if (n < total) out.push("    }");
      }
      out.push("  }");
    }
    out.push("  return c.unknownMethod();");
    out.push("}");
  });
  return out;
}
