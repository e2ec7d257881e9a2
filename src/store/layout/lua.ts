import { compilePattern, type HoleNames, type KeyShape } from "./shape.ts";

/**
 * A case key as a Lua expression, for scripts that build keys they cannot be
 * handed as `KEYS[]` (the recorder's step builds a key per member and message
 * of each update it writes): the registered pattern `chat:<chat>:msgs` with
 * prefix `p` and `{ chat: "chatId" }` becomes `p .. 'chat:' .. chatId .. ':msgs'`.
 * Scripts are built once, when their module loads; nothing is added per call.
 */
export function luaKey<S extends KeyShape & { scope: "case" }>(
  shape: S,
  prefix: string,
  ...holes: [HoleNames<S["pattern"]>] extends [never]
    ? []
    : [Record<HoleNames<S["pattern"]>, string>]
): string;
export function luaKey(
  shape: KeyShape & { scope: "case" },
  prefix: string,
  holes: Record<string, string> = {},
): string {
  const { literals, holes: names } = compilePattern(shape.pattern);
  const parts = [prefix];
  literals.forEach((literal, i) => {
    if (literal) parts.push(luaString(literal));
    const hole = names[i];
    if (hole === undefined) return;
    const expr = holes[hole];
    if (!expr)
      throw new Error(
        `luaKey: the pattern "${shape.pattern}" needs a Lua expression for <${hole}>`,
      );
    parts.push(expr);
  });
  return parts.join(" .. ");
}

function luaString(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
