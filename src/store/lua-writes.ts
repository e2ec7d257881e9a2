import type { RedisWrite } from "./cases.ts";

/**
 * Redis commands handed to a Lua script as data, to run inside the script's
 * atomic step: how the audit log stores what an entry records (a role, a
 * case) in the same step as the entry, and how the recorder stores the rare
 * parts of an update (events, sender chats, files) with the rest of it.
 *
 * On the wire they are positional ARGV: the count, then per command its
 * argument count and arguments. No JSON: the embedded Redis of rehearsals
 * (ioredis-mock) has no JSON library in its Lua, and user text is never
 * escaped twice.
 */

/** Appends `writes` to a script's ARGV, in the form `luaApplyWrites` reads. */
export function pushWrites(argv: (string | number)[], writes: readonly RedisWrite[]): void {
  argv.push(writes.length);
  for (const w of writes) {
    argv.push(w.length);
    for (const a of w) argv.push(a);
  }
}

/**
 * Lua that runs the commands `pushWrites` encoded, starting at `ARGV[i]` and
 * leaving `i` just after them. With `keyPrefix` (a Lua expression), each
 * command's key (its second element) is a part that the prefix completes,
 * which keeps what is sent short and every key inside the prefix's case.
 */
export function luaApplyWrites(keyPrefix?: string): string {
  return `
do
  local nWrites = tonumber(ARGV[i]); i = i + 1
  for _ = 1, nWrites do
    local argc = tonumber(ARGV[i]); i = i + 1
    local cmd = {}
    for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
    i = i + argc
    ${keyPrefix ? `cmd[2] = ${keyPrefix} .. cmd[2]` : ""}
    redis.call(unpack(cmd))
  end
end
`;
}
