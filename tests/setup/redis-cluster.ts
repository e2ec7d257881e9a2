import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { startRedisServer } from "./redis-process.ts";

const run = promisify(execFile);

/**
 * A Redis Cluster on loopback from Debian's redis-server: `masters` masters
 * with one replica each, made with `redis-cli --cluster create`, every node
 * in a temporary directory of its own on a free port. The test run starts one
 * (tests/setup/redis-server.ts) for the cluster suite; a test that kills
 * masters starts its own.
 */
export interface ClusterNode {
  port: number;
  /** The server, for a test to kill; `restart` brings it back on the same port and directory. */
  pid(): number | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
}

export interface RunningCluster {
  /** The seed nodes, as REDIS_URL lists them with REDIS_MODE=cluster. */
  url: string;
  nodes: ClusterNode[];
  /** The node serving `key`'s slot as master now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** Resolves once every slot is served and every master has a replica linked to it. */
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a master may be silent before its replica takes over (ms); short, for tests. */
export const NODE_TIMEOUT_MS = 1000;

export async function startRedisCluster(masters = 3): Promise<RunningCluster> {
  const ports: number[] = [];
  const clusterArgs = [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    String(NODE_TIMEOUT_MS),
    // A replica whose master died takes over however long it was cut off (the test kills masters).
    "--cluster-replica-validity-factor",
    "0",
  ];
  const servers: Awaited<ReturnType<typeof startRedisServer>>[] = [];
  for (let i = 0; i < masters * 2; i++) {
    const server = await startOnFreePort(clusterArgs);
    servers.push(server);
    ports.push(server.port);
  }
  // A restarted node keeps its directory, so it comes back with its nodes.conf and rejoins.
  const current = [...servers];
  const nodes: ClusterNode[] = ports.map((port, i) => ({
    port,
    pid: () => current[i]?.process.pid,
    kill: (signal = "SIGKILL") =>
      new Promise<void>((resolve) => {
        const child = current[i]?.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
    restart: async () => {
      const dir = current[i]?.dir as string;
      current[i] = await startRedisServer(clusterArgs, port, dir);
    },
  }));
  await run("redis-cli", [
    "--cluster",
    "create",
    ...ports.map((p) => `127.0.0.1:${p}`),
    "--cluster-replicas",
    "1",
    "--cluster-yes",
  ]);
  const cluster: RunningCluster = {
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(","),
    nodes,
    async masterOf(key) {
      for (const node of nodes) {
        const client = new Redis(node.port, "127.0.0.1", {
          lazyConnect: true,
          retryStrategy: () => null,
        });
        client.on("error", () => undefined); // a node that is down: asked no further
        try {
          await client.connect();
          const slot = Number(await client.call("CLUSTER", "KEYSLOT", key));
          const role = String(await client.call("ROLE"));
          if (!role.startsWith("master")) continue;
          const shards = (await client.call("CLUSTER", "SLOTS")) as Array<
            [number, number, [string, number]]
          >;
          const owner = shards.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
          const found = nodes.find((n) => n.port === owner);
          if (found) return found;
        } catch {
          // A node that is down: ask another.
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no master serves the slot of ${key}`);
    },
    healthy: () => waitHealthy(ports, masters),
    async stop() {
      await Promise.all(current.map((s) => s.stop()));
      for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
    },
  };
  await cluster.healthy();
  return cluster;
}

/**
 * A free port can be taken by another process between being found and being
 * bound (other test runs share the machine): then another is tried.
 */
async function startOnFreePort(args: string[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisServer(args, await freeClusterPort());
    } catch (err) {
      if (attempt >= 10 || !/Address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

/**
 * A port for a cluster node, whose cluster bus listens on the port + 10000.
 * Both are chosen below the kernel's ephemeral range (32768 and up), so
 * neither can be taken by an outgoing connection or by another server that
 * asked the kernel for any free port, and a node's bus can never land on
 * another node's port (of this run or of a test run beside it). Both are
 * checked free; two runs choosing the same one at once retry on the
 * "Address already in use" that follows.
 */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 2_700);
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Waits for the condition the tests need: each node up, the cluster state ok
 * on all of them, and `masters` masters each with a replica whose link is up.
 * Polled: Redis announces none of it.
 */
async function waitHealthy(ports: number[], masters: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await isHealthy(ports, masters)) return;
    if (Date.now() > deadline)
      throw new Error("the test Redis Cluster did not become healthy within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isHealthy(ports: number[], masters: number): Promise<boolean> {
  let linkedReplicas = 0;
  for (const port of ports) {
    const client = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on("error", () => undefined); // a node that is down: not healthy yet
    try {
      await client.connect();
      const info = String(await client.call("CLUSTER", "INFO"));
      if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
      const replication = await client.info("replication");
      if (/role:slave/.test(replication) && /master_link_status:up/.test(replication))
        linkedReplicas++;
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
  return linkedReplicas >= masters;
}
