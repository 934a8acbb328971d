// The size half of the edgehost build transform (edgehost-asc registers it beside actors.js).
//
// afterInitialize, over every source of the program (user files and the SDK):
//
// 1. UTF-8 literals. AssemblyScript stores a string literal as a UTF-16 runtime object (a 20-byte
//    header, two bytes a character), and sending it to the host means encoding it to UTF-8 at run
//    time. The SDK's `lit("...")` (assembly/bytes.ts) says "these bytes, as UTF-8": each call
//    with one string literal argument is replaced by the literal's UTF-8 bytes as static data,
//    `(<u64>memory.data<u8>([...]) << 32 | length)`, the `Utf8` value `lit` would return. The
//    call is matched by what `lit` resolves to in the file (so `import { lit as l }` works and a
//    local function of that name is left alone); any other call runs `lit` at run time, with
//    the same result.
//
// 2. Runtime checks without messages. The stub runtime (~lib/rt/stub.ts) throws "Allocation
//    too large" for a request above 1 GiB and asserts its pointers in __free/__realloc. A
//    throw or a failed assert formats "message at file:line" (the abort handler, a UTF-16 ->
//    UTF-8 encoder, integer formatting): ~400 bytes that every module carries for requests
//    the host's memory limit refuses anyway, or for misuse the SDK never makes. They become
//    plain traps (`unreachable()`); the host reports the trap and answers 500, as it does
//    when memory.grow fails.

import { NodeKind, LiteralKind, Token, AssertionKind, Node, ElementKind } from "assemblyscript";

const STUB_RUNTIME = "~lib/rt/stub";

/** True if `element` is the SDK's `lit` (assembly/bytes.ts). */
function isSdkLit(element) {
  return element != null && element.kind === ElementKind.FunctionPrototype &&
    /(^|\/)assembly\/bytes\/lit$/.test(element.internalName);
}

/** Calls `visit(node, parent, key)` for every AST node below `node` (depth first, parents first). */
function walk(node, visit) {
  for (const key of Object.keys(node)) {
    if (key === "range" || key === "parent") continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item instanceof Node) {
          visit(item, value, i);
          walk(value[i], visit);
        }
      }
    } else if (value instanceof Node) {
      visit(value, node, key);
      walk(node[key], visit);
    }
  }
}

/** `(<u64>memory.data<u8>([bytes]) << 32 | n)` for the UTF-8 bytes of `text`, at `range`. */
function staticUtf8(text, range) {
  const bytes = Buffer.from(text, "utf8");
  const int = (n) => Node.createIntegerLiteralExpression(globalThis.i64_new(n, 0), range);
  const type = (name) => Node.createNamedType(Node.createSimpleTypeName(name, range), null, false, range);
  if (bytes.length === 0) return Node.createAssertionExpression(AssertionKind.Prefix, int(0), type("u64"), range);
  const data = Node.createCallExpression(
    Node.createPropertyAccessExpression(
      Node.createIdentifierExpression("memory", range),
      Node.createIdentifierExpression("data", range),
      range
    ),
    [type("u8")],
    [Node.createArrayLiteralExpression([...bytes].map(int), range)],
    range
  );
  const address = Node.createAssertionExpression(AssertionKind.Prefix, data, type("u64"), range);
  const high = Node.createBinaryExpression(Token.LessThan_LessThan, address, int(32), range);
  return Node.createParenthesizedExpression(Node.createBinaryExpression(Token.Bar, high, int(bytes.length), range), range);
}

function isStringLiteral(node) {
  return node.kind === NodeKind.Literal && node.literalKind === LiteralKind.String;
}

/**
 * In the stub runtime: `throw ...;` becomes `unreachable();` and `assert(cond);` becomes
 * `if (!(cond)) unreachable();` (a failed check still traps, without a message).
 */
function trapInsteadOfThrow(source) {
  const trap = (range) => Node.createExpressionStatement(
    Node.createCallExpression(Node.createIdentifierExpression("unreachable", range), null, [], range));
  walk(source, (node, parent, key) => {
    if (node.kind === NodeKind.Throw) {
      parent[key] = trap(node.range);
    } else if (node.kind === NodeKind.Expression && node.expression.kind === NodeKind.Call &&
      node.expression.expression.kind === NodeKind.Identifier && node.expression.expression.text === "assert") {
      const cond = node.expression.args[0];
      const failed = Node.createUnaryPrefixExpression(Token.Exclamation,
        Node.createParenthesizedExpression(cond, cond.range), cond.range);
      parent[key] = Node.createIfStatement(failed, trap(node.range), null, node.range);
    }
  });
}

export default class LiteralsTransform {
  afterInitialize(program) {
    for (const source of program.sources) {
      if (source.internalPath === STUB_RUNTIME) {
        trapInsteadOfThrow(source);
        continue;
      }
      const file = program.filesByName.get(source.internalPath);
      if (!file) continue;
      const litNames = new Map(); // identifier -> is it the SDK's lit, looked up once per file
      walk(source, (node, parent, key) => {
        if (node.kind !== NodeKind.Call || node.args.length !== 1 || !isStringLiteral(node.args[0])) return;
        const callee = node.expression;
        if (callee.kind !== NodeKind.Identifier) return;
        const name = callee.text;
        if (!litNames.has(name)) litNames.set(name, isSdkLit(file.lookup(name)));
        if (!litNames.get(name)) return;
        parent[key] = staticUtf8(node.args[0].value, node.range);
      });
    }
  }
}
