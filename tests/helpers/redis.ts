import { Redis } from "ioredis";
import { inject } from "vitest";

/**
 * A Redis database of the shared test server that no other test uses, so
 * tests may run in parallel and `warden:global:*` keys do not collide.
 */
export async function freshRedisUrl(): Promise<string> {
  const base = inject("redisUrl");
  const allocator = new Redis(base);
  try {
    const db = await allocator.incr("warden-test:next-db");
    if (db >= 4096) throw new Error("test Redis ran out of databases");
    return `${base}/${db}`;
  } finally {
    allocator.disconnect();
  }
}
