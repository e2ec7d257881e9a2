import { inject } from "vitest";
import { connectRedis, type RedisConnection } from "../../src/store/redis.ts";

/**
 * The shared test Redis Cluster (tests/setup/redis-cluster.ts). A cluster has
 * only database 0, so tests on it keep apart by their case ids (each a new
 * one), and never assert on what the global indexes hold beyond their own.
 */
export function clusterUrl(): string {
  return inject("redisClusterUrl");
}

export function connectTestCluster(url = clusterUrl()): Promise<RedisConnection> {
  return connectRedis({ url, mode: "cluster", connectTimeoutMs: 20_000 });
}

/** A case id no other test on the cluster uses. */
export function freshCaseId(stem: string): string {
  return `${stem}-${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
