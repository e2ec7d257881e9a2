import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./redis-cluster.ts";
import { startRedisServer } from "./redis-process.ts";

export { freePort, startRedisServer } from "./redis-process.ts";

/**
 * Starts one private redis-server on a free loopback port for the whole test
 * run and stops it afterwards. Tests get its URL through `inject("redisUrl")`
 * and each takes a database of its own (see tests/helpers/redis.ts). Beside
 * it, a six-node Redis Cluster (three masters, a replica each) for the
 * cluster suite, `inject("redisClusterUrl")` (tests/setup/redis-cluster.ts).
 */

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    /** The seed nodes of the shared test Redis Cluster (tests/setup/redis-cluster.ts), comma-separated. */
    redisClusterUrl: string;
    redisServerBin: string;
  }
}

export default async function setup(project: TestProject) {
  // The cluster suite's six nodes start beside the single server, once for the whole run.
  const [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
  project.provide("redisUrl", server.url);
  project.provide("redisClusterUrl", cluster.url);
  project.provide("redisServerBin", process.env.REDIS_SERVER_BIN ?? "redis-server");
  return async () => {
    await Promise.all([server.stop(), cluster.stop()]);
  };
}
