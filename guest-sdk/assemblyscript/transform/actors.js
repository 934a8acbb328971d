// The edgehost actor transform for asc (`--transform`; edgehost-asc registers it itself).
//
// afterParse: finds every exported class that extends StatefulActor in the user sources of
//   the program (the entry file and the files it imports, directly or not: the entry roots the
//   build) and adds one generated source to the program, as an extra entry file, that exports
//     edgehost_actor_init(): i32   input class:str name:str   constructs the instance
//     edgehost_actor_call(): i32   input method:str args:bytes  runs one public method
//   (guest-sdk/ABI.md). A program with no such class gets nothing: no exports, no code.
// afterCompile: adds the custom section `edgehost.actors`:
//     {"version":1,"classes":[{"name":"Account","methods":["balance","debit","deposit"]}]}
//
// Callable methods: instance methods whose names do not start with "_", that are not private,
// protected, static, getters/setters or constructors, declared by the class or by a user class
// it extends. `fetch` and `alarm` are entry points of the platform, not RPC methods, and are
// left out. Parameters: bool, integer types, f32/f64, string, string | null, JsonText (raw
// JSON); trailing parameters may have defaults. Results: those, or void (JSON null).
//
// Set EDGEHOST_ASC_DUMP_ACTORS=1 to print the generated source.

import { Transform } from "assemblyscript/transform";
import { NodeKind, CommonFlags, SourceKind, ParameterKind } from "assemblyscript";

const BASE_CLASS = "StatefulActor";
const SECTION = "edgehost.actors";
const GENERATED = "__edgehost_actors";
const RUNTIME_NAMES = { stub: 0, minimal: 1, incremental: 2 };
const NOT_RPC = new Set(["fetch", "alarm"]);
const SCALAR_TYPES = new Set([
  "bool", "boolean", "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize",
  "f32", "f64", "number", "string", "JsonText",
]);
const NULLABLE_TYPES = new Set(["string", "JsonText"]);

/** An error asc prints as "FAILURE <message>" (without a JavaScript stack). */
function transformError(message, code) {
  const err = new Error(`edgehost actor transform: ${message}`);
  err.stack = err.message;
  if (code) err.code = code;
  return err;
}

function where(node) {
  const src = node.range.source;
  return `${src.normalizedPath}:${src.lineAt(node.range.start)}`;
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
    throw transformError(`${what}: annotate the type (at ${where(typeNode)})`);
  }
  if (typeNode.kind === NodeKind.NamedType && !(typeNode.typeArguments && typeNode.typeArguments.length) && !typeNode.name.next) {
    if (allowVoid && name === "void") return "void";
    if (SCALAR_TYPES.has(name)) {
      if (!typeNode.isNullable) return name;
      if (NULLABLE_TYPES.has(name)) return `${name} | null`;
    }
  }
  throw transformError(
    `${what}: type ${typeNode.range.toString()} is not supported (at ${where(typeNode)}); ` +
    `use bool, an integer type, f32/f64, string, string | null or JsonText` + (allowVoid ? ", or void" : "")
  );
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

export default class EdgehostActorTransform extends Transform {
  /**
   * Set by edgehost-asc: when actor classes are found in a build that uses the `stub` runtime
   * (never frees), fail with code EDGEHOST_NEEDS_GC_RUNTIME so the caller can rebuild with
   * `minimal`. Otherwise only warn.
   */
  static autoRuntime = false;

  /** The classes found by afterParse: [{ name, methods: [names] }]. */
  actorClasses = [];

  afterParse(parser) {
    const userSources = parser.sources.filter((s) => !s.internalPath.startsWith("~lib/") &&
      (s.sourceKind === SourceKind.User || s.sourceKind === SourceKind.UserEntry));
    const entry = userSources.find((s) => s.sourceKind === SourceKind.UserEntry);
    if (!entry) return;

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
        this.stderr.write(`edgehost actor transform: warning: class ${decl.name.text} extends ${BASE_CLASS} ` +
          `but is not exported, so it is not an actor (at ${where(decl)})\n`);
        continue;
      }
      if (decl.typeParameters && decl.typeParameters.length) {
        throw transformError(`actor class ${decl.name.text} must not be generic (at ${where(decl)})`);
      }
      actors.push(this.describe(cls, chain));
    }
    if (!actors.length) return;

    const names = new Set();
    for (const a of actors) {
      if (names.has(a.name)) throw transformError(`two actor classes are named ${a.name}`);
      names.add(a.name);
    }

    const runtime = parser.options ? parser.options.runtime : undefined;
    if (runtime === RUNTIME_NAMES.stub) {
      if (EdgehostActorTransform.autoRuntime) {
        throw transformError("actor classes need a runtime that frees memory", "EDGEHOST_NEEDS_GC_RUNTIME");
      }
      this.stderr.write("edgehost actor transform: warning: --runtime stub never frees memory, and an " +
        "activation's instance serves many calls; use --runtime minimal\n");
    }

    // The SDK module that declares StatefulActor (and the dispatch runtime).
    const sdk = parser.sources.find((s) => s.statements.some(
      (st) => st.kind === NodeKind.ClassDeclaration && st.name.text === BASE_CLASS && (st.flags & CommonFlags.Export)
    ));
    if (!sdk) throw transformError(`${BASE_CLASS} is not part of the program (import it from "edgehost-sdk/assembly")`);

    const dir = entry.internalPath.split("/").slice(0, -1).join("/");
    const genInternal = (dir ? `${dir}/` : "") + GENERATED;
    const text = generate(actors, relativeImport(genInternal, sdk.internalPath), (p) => relativeImport(genInternal, p));
    if (process.env.EDGEHOST_ASC_DUMP_ACTORS) this.stderr.write(`// ${genInternal}.ts\n${text}\n`);
    parser.parseFile(text, `${genInternal}.ts`, true);
    this.actorClasses = actors.map((a) => ({ name: a.name, methods: a.methods.map((m) => m.name).sort() }));
  }

  /** The callable surface of one actor class. */
  describe(cls, chain) {
    const decl = cls.decl;
    const name = decl.name.text;
    const ctor = decl.members.find((m) => m.kind === NodeKind.MethodDeclaration && (m.flags & CommonFlags.Constructor));
    if (ctor && ctor.signature.parameters.some((p) => p.parameterKind === ParameterKind.Default && !p.initializer)) {
      throw transformError(`the constructor of actor class ${name} must take no arguments; ` +
        `it reads the instance from this.ctx (at ${where(ctor)})`);
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
          throw transformError(`${what} is generic; actor methods cannot be (at ${where(m)})`);
        }
        const params = m.signature.parameters.map((p, i) => {
          if (p.parameterKind === ParameterKind.Rest) {
            throw transformError(`${what}: rest parameters are not supported (at ${where(p)})`);
          }
          return {
            type: typeText(p.type, `${what} parameter ${i + 1} (${p.name.text})`, false),
            optional: p.parameterKind === ParameterKind.Optional || p.initializer !== null,
          };
        });
        let required = params.length;
        while (required > 0 && params[required - 1].optional) required--;
        if (params.slice(0, required).some((p) => p.optional)) {
          throw transformError(`${what}: only trailing parameters may be optional (at ${where(m)})`);
        }
        const result = typeText(m.signature.returnType, `${what} result`, true);
        methods.push({ name: mname, params, required, result });
      }
    }
    return { name, internalPath: cls.source.internalPath, methods };
  }

  afterCompile(module) {
    if (!this.actorClasses.length) return;
    const json = JSON.stringify({ version: 1, classes: this.actorClasses });
    module.addCustomSection(SECTION, new TextEncoder().encode(json));
  }
}

/** The source of the generated entry file. */
function generate(actors, sdkPath, importPath) {
  const out = [];
  out.push("// Generated by edgehost-sdk/transform/actors.js: the actor entry points of this module.");
  out.push(`import { __ActorCall, __actor_init, __actor_end, __actor_error, __actor_result, JsonText } from "${sdkPath}";`);
  actors.forEach((a, k) => out.push(`import { ${a.name} as __Actor${k} } from "${importPath(a.internalPath)}";`));
  out.push("");
  actors.forEach((a, k) => out.push(`let __actor${k}: __Actor${k} | null = null;`));
  out.push("");
  out.push("export function edgehost_actor_init(): i32 {");
  out.push("  let cls = __actor_init();");
  out.push(`  if (cls === null) return __actor_end(__actor_error("malformed actor init input"));`);
  actors.forEach((a, k) => {
    out.push(`  if (cls == ${JSON.stringify(a.name)}) {`);
    out.push(`    __actor${k} = new __Actor${k}();`);
    out.push("    return __actor_end(0);");
    out.push("  }");
  });
  out.push(`  return __actor_end(__actor_error("unknown actor class " + cls));`);
  out.push("}");
  out.push("");
  out.push("export function edgehost_actor_call(): i32 {");
  actors.forEach((a, k) => {
    out.push(`  let a${k} = __actor${k};`);
    out.push(`  if (a${k} !== null) return __actor_end(__call${k}(a${k}));`);
  });
  out.push(`  return __actor_end(__actor_error("actor not initialized"));`);
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
          out.push(`${indent}return c.ok("null");`);
        } else {
          out.push(`${indent}return c.ok(__actor_result<${m.result}>(${call}));`);
        }
        if (n < total) out.push("    }");
      }
      out.push("  }");
    }
    out.push("  return c.unknownMethod();");
    out.push("}");
  });
  return out.join("\n") + "\n";
}
