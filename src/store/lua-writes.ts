import type { RedisWrite } from "./cases.ts";
import { type DeclaredKeys, keyIndex } from "./script.ts";

/**
 * Redis commands handed to a Lua script as data, to run inside the script's
 * atomic step: how the audit log stores what an entry records (a role, a
 * case) in the same step as the entry, and how the recorder stores the rare
 * parts of an update (events, sender chats, files) with the rest of it.
 *
 * On the wire they are positional ARGV: the count, then per command its
 * argument count, how many of its first arguments are keys, and its
 * arguments, each key given as its index in the call's KEYS (declared there,
 * so that a Redis Cluster can redirect the call while the keys' slot moves:
 * src/store/script.ts). No JSON: the embedded Redis of rehearsals
 * (ioredis-mock) has no JSON library in its Lua, and user text is never
 * escaped twice.
 */

/**
 * How many of a write's arguments after the command are keys: all of them for
 * DEL and UNLINK, the source and the destination for RENAME, else the first.
 * Warden's writes use no other command that names several keys (a test sends
 * every kind of write through the script).
 */
export function keyCountOf(write: RedisWrite): number {
  const command = write[0].toUpperCase();
  if (command === "DEL" || command === "UNLINK") return write.length - 1;
  if (command === "RENAME" || command === "RENAMENX") return 2;
  return 1;
}

/** Every key `writes` touch. */
export function* keysOfWrites(writes: readonly RedisWrite[]): Generator<string> {
  for (const w of writes) {
    const n = keyCountOf(w);
    for (let k = 1; k <= n; k++) yield String(w[k]);
  }
}

/**
 * Appends `writes` to a script's ARGV, in the form `luaApplyWrites` reads,
 * declaring their keys in `keys`. With `prefix`, the writes' keys are parts
 * that the prefix (a case's `warden:{<case>}:`) completes, which keeps every
 * key in the case's slot.
 */
export function pushWrites(
  argv: (string | number)[],
  writes: readonly RedisWrite[],
  keys: DeclaredKeys,
  prefix = "",
): void {
  argv.push(writes.length);
  for (const w of writes) {
    const n = keyCountOf(w);
    argv.push(w.length, n, w[0]);
    for (let k = 1; k < w.length; k++)
      argv.push(k <= n ? keyIndex(keys, prefix + String(w[k])) : (w[k] as string | number));
  }
}

/**
 * Lua that runs the commands `pushWrites` encoded, starting at `ARGV[i]` and
 * leaving `i` just after them.
 */
export function luaApplyWrites(): string {
  return `
do
  local nWrites = tonumber(ARGV[i]); i = i + 1
  for _ = 1, nWrites do
    local argc, nKeys = tonumber(ARGV[i]), tonumber(ARGV[i + 1]); i = i + 2
    local cmd = {}
    for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
    -- Keys are declared in KEYS (src/store/script.ts); the arguments name them by index.
    for a = 2, nKeys + 1 do cmd[a] = KEYS[tonumber(cmd[a])] end
    i = i + argc
    redis.call(unpack(cmd))
  end
end
`;
}
