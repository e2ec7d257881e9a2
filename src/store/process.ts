import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { replicaKeys } from "./keys.ts";
import { LEASE_RENEW_MS, LEASE_TTL_MS } from "./lease.ts";

/**
 * Which `warden start` processes are alive. Each process has an id of its own
 * (`<host>-<pid>-<random>`: a restarted process is another process) and keeps
 * a liveness key that expires `LEASE_TTL_MS` after its last renewal; a
 * stopping process deletes it. What a process leaves in shared places (open
 * audit intents, the scenario inbox) carries its id, so the others can tell
 * the work of a live replica — left alone — from that of a dead one, which
 * they repair.
 */

export function newProcessId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, "_") || "host";
  return `${host}-${process.pid}-${Math.floor(Math.random() * 0x100000000).toString(36)}`;
}

export interface Liveness {
  readonly id: string;
  /** Stops renewing and deletes the key: from then on the process counts as gone. */
  stop(): Promise<void>;
}

/** Writes the liveness key now and renews it every second until `stop`. */
export async function keepAlive(
  redis: Redis,
  id: string,
  info: Record<string, unknown>,
): Promise<Liveness> {
  const key = replicaKeys.process(id);
  const value = JSON.stringify({ ...info, started: Date.now() });
  await redis.set(key, value, "PX", LEASE_TTL_MS);
  const timer = setInterval(() => {
    redis.set(key, value, "PX", LEASE_TTL_MS).catch(() => undefined);
  }, LEASE_RENEW_MS);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await redis.del(key);
    },
  };
}

/** Whether the process with this id is alive (its liveness key has not expired). */
export async function isAlive(redis: Redis, id: string): Promise<boolean> {
  return (await redis.exists(replicaKeys.process(id))) === 1;
}
