import { Redis as Server } from "ioredis";
import { holesOfPattern, shapeOfKey } from "../../src/store/layout/match.ts";
import { compilePattern } from "../../src/store/layout/shape.ts";
import type { Redis } from "../../src/store/redis.ts";
import { scanKeys } from "../../src/store/scan.ts";

/**
 * Redis read against the key registry (src/store/layout/): keys no shape
 * declares, keys of the wrong type, and what a migrated chat left behind.
 */

export async function allKeys(redis: Redis): Promise<string[]> {
  return (await scanKeys(redis)).sort();
}

/** One line per key that no shape declares, or whose Redis type is not the declared one. */
export async function undeclaredKeys(redis: Redis): Promise<string[]> {
  const keys = await allKeys(redis);
  // One by one rather than in a pipeline: on a cluster a pipeline must stay in one slot.
  const types = await Promise.all(keys.map((key) => redis.type(key)));
  const problems: string[] = [];
  keys.forEach((key, i) => {
    const found = shapeOfKey(key);
    if (!found) problems.push(`${key} (${types[i]}): declared by no shape`);
    else if (found.shape.type !== types[i])
      problems.push(`${key}: a ${types[i]}, but ${found.shape.id} declares a ${found.shape.type}`);
  });
  return problems;
}

const namesChat = (pattern: string | undefined) =>
  pattern !== undefined && compilePattern(pattern).holes.includes("chat");

/**
 * Keys and hash fields that still name `chatId` although their shape does not
 * say they stay there (message evidence), one line each.
 */
export async function leftUnder(redis: Redis, chatId: number): Promise<string[]> {
  const left: string[] = [];
  for (const key of await allKeys(redis)) {
    const found = shapeOfKey(key);
    if (!found || found.shape.migration === "stays") continue;
    if (found.holes.chat === chatId) left.push(key);
    const fields = found.shape.fields;
    if (namesChat(fields) && found.shape.type === "hash")
      for (const field of await redis.hkeys(key))
        if (holesOfPattern(fields as string, field)?.chat === chatId) left.push(`${key} ${field}`);
  }
  return left;
}

/**
 * The name of every key written in the database of `url` from now until
 * `stop()`, through Redis's keyspace notifications: keys that live only for
 * a moment (the scenario inbox, a conversation's index entry) are seen too.
 * Switches notifications on for the test server while it runs.
 */
export async function watchKeyEvents(url: string): Promise<{ stop(): Promise<Set<string>> }> {
  const admin = new Server(url);
  const subscriber = new Server(url);
  const db = admin.options.db ?? 0;
  const [, before] = (await admin.config("GET", "notify-keyspace-events")) as [string, string];
  await admin.config("SET", "notify-keyspace-events", "EA");
  const seen = new Set<string>();
  const prefix = `__keyevent@${db}__:`;
  const marker = `${prefix}warden-test-marker`;
  let markerSeen: () => void = () => undefined;
  subscriber.on("pmessage", (_pattern: string, channel: string, key: string) => {
    if (channel === marker) markerSeen();
    else seen.add(key);
  });
  await subscriber.psubscribe(`${prefix}*`);
  return {
    async stop() {
      // Notifications arrive in order: once the marker is here, every earlier one is.
      const arrived = new Promise<void>((resolve) => {
        markerSeen = resolve;
      });
      await admin.publish(marker, "end");
      await arrived;
      await admin.config("SET", "notify-keyspace-events", before);
      subscriber.disconnect();
      admin.disconnect();
      return seen;
    },
  };
}

/** One line per name in `written` that no shape declares. */
export function undeclaredNames(written: Iterable<string>): string[] {
  return [...written]
    .filter((key) => !shapeOfKey(key))
    .sort()
    .map((key) => `${key}: written, declared by no shape`);
}
