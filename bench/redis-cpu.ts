import { sequentialize } from "@grammyjs/runner";
import { Bot, type Context } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { Redis as Server } from "ioredis";
import pino from "pino";
import { addChat, createCase } from "../src/actions/case-changes.ts";
import { createAuditLog } from "../src/audit/record.ts";
import { createRecorder } from "../src/collect/recorder.ts";
import { connectRedis, type Redis } from "../src/store/redis.ts";
import { replicaBarrier } from "../src/store/replicas.ts";
import { startRedisCluster } from "../tests/setup/redis-cluster.ts";
import { startRedisServer } from "../tests/setup/redis-process.ts";
import { median } from "./median.ts";

/**
 * Redis CPU per update (issue 14): the recorder as the bot runs it (per-chat
 * ordering, then one atomic step per update and batched `collect` entries),
 * fed synthetic member messages of several cases at once, on
 *   - a single redis-server (the baseline: today's deployment), and
 *   - a Redis Cluster of three masters with a replica each, on loopback, with
 *     a WAIT for one replica per 100 updates as a polling bot confirms them.
 * Redis CPU is `used_cpu_user + used_cpu_sys` from INFO CPU of every server,
 * read before and after the load; for the cluster, the masters' and the
 * replicas' separately, and the busiest master's (what limits one shard).
 *
 *   npx tsx bench/run.ts redis-cpu   (BENCH_REDIS_CPU_UPDATES, BENCH_REDIS_CPU_CASES,
 *                                     BENCH_REDIS_CPU_ROUNDS)
 */

const UPDATES = Number(process.env.BENCH_REDIS_CPU_UPDATES ?? 12_000);
const CASES = Number(process.env.BENCH_REDIS_CPU_CASES ?? 6);
const ROUNDS = Number(process.env.BENCH_REDIS_CPU_ROUNDS ?? 3);
const CHATS_PER_CASE = 2;
const MEMBERS = 1000;
const IN_FLIGHT = 64;
const logger = pino({ level: "silent" });

const botInfo = {
  id: 7_000_000_001,
  is_bot: true,
  first_name: "Warden",
  username: "warden_bot",
} as UserFromGetMe;

const chatIdOf = (c: number, k: number) => -1_002_000_000_000 - c * 100 - k;

function updates(round: number, count: number): Update[] {
  let s = 7 + round;
  const next = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const date = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const member = Math.floor(next() * MEMBERS);
    const chat = chatIdOf(Math.floor(next() * CASES), Math.floor(next() * CHATS_PER_CASE));
    return {
      update_id: round * 1_000_000 + i,
      message: {
        message_id: round * 1_000_000 + i,
        date,
        chat: { id: chat, type: "supergroup", title: "Vuurwerk" },
        from: { id: 10_000_000 + member, is_bot: false, first_name: `Lid ${member}` },
        text: i % 7 === 0 ? "5 cobra 6 voor 50 euro, dm" : "hoi allemaal, mooi weer vandaag",
      },
    } as Update;
  });
}

interface Topology {
  label: string;
  url: string;
  mode: "single" | "cluster";
  /** Every server, with whether it is a master now. */
  servers(): Promise<Array<{ port: number; master: boolean }>>;
  waitReplicas: number;
  stop(): Promise<void>;
}

async function cpuOf(port: number): Promise<number> {
  const client = new Server(port, "127.0.0.1");
  try {
    const info = await client.info("cpu");
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return field("used_cpu_user") + field("used_cpu_sys");
  } finally {
    client.disconnect();
  }
}

async function roleOf(port: number): Promise<boolean> {
  const client = new Server(port, "127.0.0.1");
  try {
    return /role:master/.test(await client.info("replication"));
  } finally {
    client.disconnect();
  }
}

/** One round: a fresh set of cases, the load fed through the recorder; µs of Redis CPU per update. */
async function round(t: Topology, n: number) {
  const connection = await connectRedis({ url: t.url, mode: t.mode, connectTimeoutMs: 20_000 });
  const redis: Redis = connection.redis;
  const audit = createAuditLog({ redis });
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "bench" } };
  const stem = `cpu-${n}-${Date.now().toString(36)}`;
  for (let c = 0; c < CASES; c++) {
    const id = `${stem}-${c}`;
    await createCase(deps, { id, title: "b", authority: "A", purpose: "P", retentionDays: 30 });
    for (let k = 0; k < CHATS_PER_CASE; k++)
      await addChat(deps, id, { chatId: chatIdOf(c, k) - n * 10_000, alias: `c${k}` });
  }
  const bot = new Bot("7000000001:AAbenchbenchbenchbenchbenchbenchbench", { botInfo });
  bot.api.config.use(async () => ({ ok: true, result: true }) as never);
  const recorder = createRecorder({ redis, audit, logger, api: bot.api });
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
  bot.use(recorder.middleware);
  const barrier = replicaBarrier(redis, { replicas: t.waitReplicas, timeoutMs: 1000 });
  const list = updates(n, UPDATES).map((u) => {
    const m = u.message as { chat: { id: number } };
    m.chat.id -= n * 10_000;
    return u;
  });
  const servers = await t.servers();
  const before = await Promise.all(servers.map((s) => cpuOf(s.port)));
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < list.length) {
        await bot.handleUpdate(list[next++] as Update);
        // A polling bot confirms a batch of up to 100 at a time, after a WAIT.
        if (++done % 100 === 0) await barrier.sync();
      }
    }),
  );
  await barrier.sync();
  await recorder.close();
  const ms = performance.now() - started;
  const after = await Promise.all(servers.map((s) => cpuOf(s.port)));
  const used = servers.map((s, i) => ({
    ...s,
    us: (((after[i] ?? 0) - (before[i] ?? 0)) * 1e6) / list.length,
  }));
  await audit.close();
  await connection.close();
  const masters = used.filter((s) => s.master);
  return {
    perSecond: (list.length / ms) * 1000,
    masters: masters.reduce((a, s) => a + s.us, 0),
    replicas: used.filter((s) => !s.master).reduce((a, s) => a + s.us, 0),
    busiest: Math.max(...masters.map((s) => s.us)),
  };
}

export async function benchRedisCpu(): Promise<void> {
  const single = await startRedisServer();
  const cluster = await startRedisCluster();
  const topologies: Topology[] = [
    {
      label: "single server (baseline)",
      url: single.url,
      mode: "single",
      servers: async () => [{ port: single.port, master: true }],
      waitReplicas: 0,
      stop: () => single.stop(),
    },
    {
      label: "cluster, 3 masters + 3 replicas, WAIT 1",
      url: cluster.url,
      mode: "cluster",
      servers: async () =>
        Promise.all(
          cluster.nodes.map(async (n) => ({ port: n.port, master: await roleOf(n.port) })),
        ),
      waitReplicas: 1,
      stop: () => cluster.stop(),
    },
  ];
  try {
    console.log(
      `${UPDATES} member messages over ${CASES} cases (${CHATS_PER_CASE} chats each) through the recorder, ${IN_FLIGHT} in flight; median of ${ROUNDS} rounds`,
    );
    const results = new Map<string, Awaited<ReturnType<typeof round>>[]>();
    for (let r = 0; r < ROUNDS; r++)
      for (const t of topologies) {
        const list = results.get(t.label) ?? [];
        list.push(await round(t, r * topologies.length + topologies.indexOf(t) + 1));
        results.set(t.label, list);
      }
    for (const t of topologies) {
      const list = results.get(t.label) ?? [];
      const m = (f: (x: (typeof list)[number]) => number) => median(list.map(f)).toFixed(1);
      console.log(
        `  ${t.label}: Redis CPU per update ${m((x) => x.masters)} µs on the master(s)` +
          (t.mode === "cluster"
            ? `, ${m((x) => x.replicas)} µs on the replicas, ${m((x) => x.busiest)} µs on the busiest master`
            : "") +
          `; ${m((x) => x.perSecond)} updates/s`,
      );
    }
  } finally {
    for (const t of topologies) await t.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRedisCpu();
