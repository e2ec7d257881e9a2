import type { Position } from "./problems.ts";

/**
 * Positions in a TypeScript scenario (`export default defineScenario({…})`):
 * the object literal's syntax tree is walked along the same path the schema
 * reports. The TypeScript compiler is a development tool, loaded only when a
 * TypeScript scenario is linted; without it every problem points at 1:1.
 */

type Locate = (path: readonly PropertyKey[], opts?: { key?: boolean }) => Position;

export async function typeScriptLocator(text: string): Promise<Locate> {
  let ts: typeof import("typescript");
  try {
    ts = (await import("typescript")).default;
  } catch {
    return () => ({ line: 1, column: 1 });
  }
  const source = ts.createSourceFile("scenario.ts", text, ts.ScriptTarget.Latest, true);
  const at = (node: import("typescript").Node): Position => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    return { line: line + 1, column: character + 1 };
  };

  let root: import("typescript").Expression | undefined;
  for (const statement of source.statements) {
    if (ts.isExportAssignment(statement)) root = statement.expression;
  }
  // defineScenario({ … }) or a bare object, possibly with `satisfies`/`as`.
  const unwrap = (e: import("typescript").Expression | undefined) => {
    let node = e;
    for (;;) {
      if (!node) return undefined;
      if (ts.isCallExpression(node)) node = node.arguments[0];
      else if (ts.isSatisfiesExpression(node) || ts.isAsExpression(node)) node = node.expression;
      else if (ts.isParenthesizedExpression(node)) node = node.expression;
      else return node;
    }
  };

  return (path, opts = {}) => {
    let node = unwrap(root);
    let last: import("typescript").Node | undefined = node;
    let keyNode: import("typescript").Node | undefined;
    for (const segment of path) {
      keyNode = undefined;
      if (node && ts.isObjectLiteralExpression(node)) {
        const prop = node.properties.find(
          (p) =>
            (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) &&
            p.name &&
            (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
            p.name.text === segment,
        );
        if (!prop || !ts.isPropertyAssignment(prop)) break;
        keyNode = prop.name;
        node = unwrap(prop.initializer);
      } else if (node && ts.isArrayLiteralExpression(node) && typeof segment === "number") {
        node = unwrap(node.elements[segment]);
      } else break;
      if (!node) break;
      last = node;
    }
    const target = opts.key && keyNode ? keyNode : (node ?? keyNode ?? last);
    return target ? at(target) : { line: 1, column: 1 };
  };
}
