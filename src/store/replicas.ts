import type { Redis as Server } from "ioredis";
import { isCluster, type Redis } from "./redis.ts";

/**
 * Replicas' acknowledgement before Warden confirms an update to Telegram.
 *
 * Redis acknowledges a write once its master has it; a replica gets it a
 * moment later. A master that dies in that moment takes the write with it
 * when its replica takes over, and an update Telegram was told was received
 * (the webhook's 200, or the next `getUpdates` offset) would be gone for good.
 * So before each confirmation Warden sends `WAIT <replicas> <timeout>`, which
 * returns once that many replicas hold everything the connection wrote so far
 * (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT; 0 replicas is off, for a single
 * server). WAIT covers the writes of the connection it is sent on, so it goes
 * on Warden's own connections: on a cluster, to every master's, each of which
 * carried the writes of its slots (a master this client never wrote to answers
 * at once).
 *
 * Confirmations come many at a time (concurrent webhook requests), and one
 * WAIT covers every write acknowledged before it was sent: callers share the
 * WAIT that starts after theirs were acknowledged, never one already under
 * way, so there is at most one WAIT in flight and one queued behind it.
 */

export interface ReplicaWaitOptions {
  /** How many replicas must hold a write; 0: no waiting. */
  replicas: number;
  /** How long one WAIT may take before the confirmation is refused (ms). */
  timeoutMs: number;
}

/** Fewer replicas acknowledged than required in time: the update must not be confirmed. */
export class NotReplicatedError extends Error {
  override name = "NotReplicatedError";
}

export interface ReplicaBarrier {
  /**
   * Resolves once every write this client had acknowledged before the call is
   * held by the required replicas; rejects with `NotReplicatedError` if they
   * did not answer in time (or a master could not be asked).
   */
  sync(): Promise<void>;
  readonly options: ReplicaWaitOptions;
}

const shared = new WeakMap<Redis, ReplicaBarrier>();

/**
 * The barrier of a connection, shared by everything in the process that
 * writes through it (confirmations, actions, the audit log), so that they
 * share WAITs too. A caller asking with other options gets a barrier of its own.
 */
export function replicaBarrierOf(redis: Redis, options: ReplicaWaitOptions): ReplicaBarrier {
  const known = shared.get(redis);
  if (
    known &&
    known.options.replicas === options.replicas &&
    known.options.timeoutMs === options.timeoutMs
  )
    return known;
  const barrier = replicaBarrier(redis, options);
  shared.set(redis, barrier);
  return barrier;
}

/** `sync` of the connection's barrier, or undefined when no replica is asked for. */
export function waitForReplicasOf(
  redis: Redis,
  options: ReplicaWaitOptions,
): (() => Promise<void>) | undefined {
  if (options.replicas <= 0) return undefined;
  const barrier = replicaBarrierOf(redis, options);
  return () => barrier.sync();
}

export function replicaBarrier(redis: Redis, options: ReplicaWaitOptions): ReplicaBarrier {
  let inFlight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const wait = waitForReplicas(redis, options).finally(() => {
      if (inFlight === wait) inFlight = undefined;
    });
    inFlight = wait;
    return wait;
  };
  return {
    options,
    sync() {
      if (options.replicas <= 0) return Promise.resolve();
      if (!inFlight) return start();
      queued ??= inFlight
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
  };
}

/** One WAIT on each connection that may have written: the server's, or every master's. */
async function waitForReplicas(redis: Redis, options: ReplicaWaitOptions): Promise<void> {
  const servers: Server[] = isCluster(redis) ? redis.nodes("master") : [redis];
  await Promise.all(
    servers.map(async (server) => {
      const acked = Number(await server.call("WAIT", options.replicas, options.timeoutMs));
      if (acked >= options.replicas) return;
      const where = `${server.options.host}:${server.options.port}`;
      throw new NotReplicatedError(
        `only ${acked} of ${options.replicas} replicas of the Redis master at ${where} acknowledged Warden's writes within ${options.timeoutMs} ms: a failover could still lose them, so nothing that needs them goes on (no update is confirmed to Telegram, which delivers it again; no action's call is made; no consulted data is shown; a change is not reported done, though the master has it): bring the master's replica back, or lower REDIS_WAIT_REPLICAS`,
      );
    }),
  );
}
