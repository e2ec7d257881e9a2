/**
 * A case's slot moved to another master (`redis-cli --cluster reshard`) under
 * the same running client.
 *
 * Between two bursts of member messages: unless the client refreshed its map
 * of slots meanwhile, the old master answers MOVED and the client follows.
 *
 * While member messages stream into the case through the real recorder and
 * audit entries (with a precondition and a write) are appended to its log:
 * every atomic step declares every key it touches (src/store/script.ts), so
 * while the slot's keys are split between the two masters Redis sends a step
 * on (ASK) or refuses it for now (TRYAGAIN, retried by ioredis every 300 ms,
 * then by the recorder and the audit log) instead of letting it write on the
 * wrong side. The case's id is chosen so that its slot is the first of its
 * master's, which `--cluster-slots 1` moves alone; it holds some 12,000 keys,
 * moved one per MIGRATE, so the move lasts seconds. Measured here (2 shared
 * cores): moves of 2.2–5.3 s, the old master answering TRYAGAIN 14–39 times,
 * and the longest update waiting 1.5–3.7 s. Before the keys were declared
 * this test lost messages (kept 4,718 of 4,944, and 7,615 of 7,617): a step
 * ran on the old master after its keys had left and wrote keys there that
 * the move then left behind (or redis-cli stopped with "Value check failed").
 *
 * Either way every message is kept once, every update is in one `collect`
 * entry, every audit entry is appended once, and the log verifies. The
 * cluster is this file's own, so the moves disturb no other test.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sequentialize } from "@grammyjs/runner";
import { Bot, type Context } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { Cluster, Redis as Server } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChat, createCase } from "../../src/actions/case-changes.ts";
import { type AuditLog, createAuditLog } from "../../src/audit/record.ts";
import { createRecorder, type Recorder } from "../../src/collect/recorder.ts";
import { caseIsOpen } from "../../src/store/cases.ts";
import { collectKeys, keys } from "../../src/store/keys.ts";
import { CLUSTER_OPTIONS, clusterSeeds, type Redis } from "../../src/store/redis.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { connectTestCluster, freshCaseId } from "../helpers/cluster.ts";
import { type RunningCluster, startRedisCluster } from "../setup/redis-cluster.ts";

const run = promisify(execFile);
const CHATS = 4;
const botInfo = {
  id: 7_000_000_003,
  is_bot: true,
  first_name: "Warden",
  username: "w_bot",
} as UserFromGetMe;

async function nodeId(port: number): Promise<string> {
  const client = new Server(port, "127.0.0.1");
  try {
    return String(await client.call("CLUSTER", "MYID"));
  } finally {
    client.disconnect();
  }
}

/** The nodes that are masters now. */
async function mastersOf(c: RunningCluster) {
  const masters: RunningCluster["nodes"] = [];
  for (const node of c.nodes) {
    const client = new Server(node.port, "127.0.0.1");
    try {
      if (/role:master/.test(await client.info("replication"))) masters.push(node);
    } finally {
      client.disconnect();
    }
  }
  return masters;
}

/**
 * Moves the first `slots` slots of the master on port `from` to the master on
 * port `to`, `pipeline` keys per MIGRATE (redis-cli's default is 10).
 */
async function reshard(from: number, to: number, slots: number, pipeline = 10): Promise<void> {
  await run(
    "redis-cli",
    [
      "--cluster",
      "reshard",
      `127.0.0.1:${from}`,
      "--cluster-from",
      await nodeId(from),
      "--cluster-to",
      await nodeId(to),
      "--cluster-slots",
      String(slots),
      "--cluster-pipeline",
      String(pipeline),
      "--cluster-yes",
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`redis-cli --cluster reshard failed: ${err.stdout?.slice(-1500)}${err.stderr}`);
  });
}

/** A case with `CHATS` seized chats, from chat id `first` down. */
async function seedCase(
  redis: Redis,
  audit: AuditLog,
  caseId: string,
  first: number,
): Promise<number[]> {
  const chats = Array.from({ length: CHATS }, (_, k) => first - k);
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
  await createCase(deps, {
    id: caseId,
    title: "t",
    authority: "a",
    purpose: "p",
    retentionDays: 1,
  });
  for (const [k, chatId] of chats.entries())
    await addChat(deps, caseId, { chatId, alias: `fw${k}` });
  return chats;
}

/** A bot that runs the recorder as Warden does (per-chat order), its Bot API answered in-process. */
function recorderBot(
  redis: Redis,
  audit: AuditLog,
  logger = pino({ level: "silent" }),
): { bot: Bot; recorder: Recorder } {
  const bot = new Bot("7000000003:AAtesttesttesttesttesttesttesttest", { botInfo });
  bot.api.config.use(async () => ({ ok: true, result: true }) as never);
  const recorder = createRecorder({ redis, audit, logger, api: bot.api });
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
  bot.use(recorder.middleware);
  return { bot, recorder };
}

/** Update `i`: message `i + 1` in one of `chats`, from one of `members` members. */
function memberMessage(chats: number[], members: number, i: number): Update {
  const date = Math.floor(Date.now() / 1000);
  return {
    update_id: i + 1,
    message: {
      message_id: i + 1,
      date,
      chat: { id: chats[i % chats.length] as number, type: "supergroup", title: "Vuurwerk" },
      from: { id: 20_000 + (i % members), is_bot: false, first_name: `Lid ${i % members}` },
      text: `bericht ${i}`,
    },
  } as Update;
}

/** Every one of `sent` messages kept once, counted once, and in exactly one collect entry. */
async function expectKeptOnce(
  redis: Redis,
  caseId: string,
  chats: number[],
  members: number,
  sent: number,
) {
  let kept = 0;
  for (const chatId of chats) kept += await redis.hlen(collectKeys.messages(caseId, chatId));
  expect(kept).toBe(sent);
  const counts = await Promise.all(
    Array.from({ length: members }, (_, m) =>
      redis.hget(collectKeys.member(caseId, 20_000 + m), "count:text"),
    ),
  );
  expect(counts.reduce((sum, c) => sum + Number(c ?? 0), 0)).toBe(sent);
  const collected = (await auditEntries(redis, caseId))
    .filter((e) => e.op === "collect")
    .flatMap((e) => e.update_ids ?? []);
  expect(collected.length).toBe(sent);
  expect(new Set(collected).size).toBe(sent);
  await expectLogVerifies(redis, caseId);
}

let cluster: RunningCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe("a case's slot moved to another master between bursts", { timeout: 240_000 }, () => {
  it("is followed by the running client (MOVED): every message kept once, the log verifies", async () => {
    const connection = await connectTestCluster(cluster.url);
    const { redis } = connection;
    const audit = createAuditLog({ redis });
    const caseId = freshCaseId("reshard");
    const chats = await seedCase(redis, audit, caseId, -1_004_000_000_000);
    const { bot, recorder } = recorderBot(redis, audit);

    let sent = 0;
    const burst = (count: number) => {
      const until = sent + count;
      return Promise.all(
        Array.from({ length: CHATS * 2 }, async () => {
          while (sent < until) await bot.handleUpdate(memberMessage(chats, 8, sent++));
        }),
      );
    };
    await burst(200);
    // The burst's batched collect entries are written before the move.
    await recorder.flush();
    // Every slot of the case's master goes to another master, the case's among them.
    const from = await cluster.masterOf(keys.caseMeta(caseId));
    const target = (await mastersOf(cluster)).find((n) => n.port !== from.port) as typeof from;
    await reshard(from.port, target.port, 16384);
    await burst(200);
    await recorder.close();
    await audit.close();
    expect((await cluster.masterOf(keys.caseMeta(caseId))).port).toBe(target.port);
    await expectKeptOnce(redis, caseId, chats, 8, sent);
    await connection.close();
  });
});

/** How often a node answered ASK, TRYAGAIN and MOVED (INFO errorstats). */
async function redirections(port: number): Promise<Record<string, number>> {
  const client = new Server(port, "127.0.0.1");
  try {
    const stats = await client.info("errorstats");
    const out: Record<string, number> = {};
    for (const [, name, count] of stats.matchAll(/errorstat_(ASK|TRYAGAIN|MOVED):count=(\d+)/g))
      out[name as string] = Number(count);
    return out;
  } finally {
    client.disconnect();
  }
}

/**
 * A fresh case id whose slot is the first one its master serves (redis-cli
 * moves a master's slots lowest first), and that master's port.
 */
async function caseOnFirstSlot(c: RunningCluster): Promise<{ caseId: string; from: number }> {
  const client = new Server((c.nodes[0] as RunningCluster["nodes"][number]).port, "127.0.0.1");
  try {
    const shards = (await client.call("CLUSTER", "SLOTS")) as Array<
      [number, number, [string, number]]
    >;
    const firstSlot = new Map<number, number>();
    for (const [start, , [, port]] of shards)
      firstSlot.set(port, Math.min(firstSlot.get(port) ?? 16384, start));
    const wanted = new Map([...firstSlot].map(([port, slot]) => [slot, port]));
    const stem = freshCaseId("busy");
    for (let batch = 0; ; batch++) {
      const ids = Array.from(
        { length: 4096 },
        (_, k) => `${stem}-${(batch * 4096 + k).toString(36)}`,
      );
      const pipeline = client.pipeline();
      for (const id of ids) pipeline.call("CLUSTER", "KEYSLOT", keys.caseMeta(id));
      const slots = (await pipeline.exec()) ?? [];
      for (const [k, [, slot]] of slots.entries()) {
        const from = wanted.get(Number(slot));
        if (from !== undefined) return { caseId: ids[k] as string, from };
      }
    }
  } finally {
    client.disconnect();
  }
}

/** A cluster client with Warden's options but `maxRedirections`, so refused steps reach Warden's code. */
function impatientClient(url: string, maxRedirections: number) {
  const redis = new Cluster(
    clusterSeeds(url).map((seed) => ({ host: "127.0.0.1", port: Number(new URL(seed).port) })),
    { ...CLUSTER_OPTIONS, maxRedirections },
  );
  return { redis, close: async () => void (await redis.quit()) };
}

describe("a case's slot moved to another master while it is written", { timeout: 300_000 }, () => {
  it.each([
    ["with Warden's cluster options (ioredis tries a refused step again for ~5 s)", undefined],
    [
      "when ioredis gives up at once (maxRedirections 2): the recorder and the audit log try again",
      2,
    ],
  ])(
    "holds or redirects every step until the move is done, %s: every message and entry kept once, the log verifies",
    async (_, maxRedirections) => {
      const connection = maxRedirections
        ? impatientClient(cluster.url, maxRedirections)
        : await connectTestCluster(cluster.url);
      const { redis } = connection;
      const audit = createAuditLog({ redis });
      const { caseId, from } = await caseOnFirstSlot(cluster);
      const chats = await seedCase(
        redis,
        audit,
        caseId,
        -1_004_000_000_100 - 10 * (maxRedirections ?? 0),
      );
      const { bot, recorder } = recorderBot(redis, audit);
      // Three keys per member (profile, names, messages by sender): some 12,000 keys to migrate.
      const members = 4000;
      const prefill = members;

      let sent = 0;
      let stopAt = Number.POSITIVE_INFINITY;
      let longestWaitMs = 0;
      let prefilled: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => {
        prefilled = resolve;
      });
      const streams = Array.from({ length: CHATS * 2 }, async () => {
        while (sent < stopAt) {
          const started = performance.now();
          await bot.handleUpdate(memberMessage(chats, members, sent++));
          if (sent > prefill) longestWaitMs = Math.max(longestWaitMs, performance.now() - started);
          if (sent >= prefill) prefilled();
        }
      });
      // Audit entries with a precondition and a write of the case's, appended all along.
      const noteKey = `warden:{${caseId}}:test:notes`;
      let notes = 0;
      const appending = (async () => {
        while (sent < stopAt) {
          await audit.record(
            {
              case: caseId,
              actor: { kind: "system", name: "test" },
              op: "note",
              phase: "info",
              params: { n: notes },
            },
            { preconditions: [caseIsOpen(caseId)], writes: [["HINCRBY", noteKey, "n", 1]] },
          );
          notes++;
        }
      })();

      await ready;
      const target = (await mastersOf(cluster)).find((n) => n.port !== from) as { port: number };
      const before = await redirections(from);
      const started = performance.now();
      // One key per MIGRATE, so that the slot's keys stay split between the masters for a while.
      await reshard(from, target.port, 1, 1);
      const moveMs = performance.now() - started;
      const during = await redirections(from);
      const met = (name: string) => (during[name] ?? 0) - (before[name] ?? 0);
      // And on past the move, through the new master.
      stopAt = sent + 500;
      await Promise.all([...streams, appending]);
      await recorder.close();
      await audit.close();
      console.info(
        `resharding while written: ${sent} updates and ${notes} notes; the move took ${moveMs.toFixed(0)} ms, the old master answered ASK ${met("ASK")} and TRYAGAIN ${met("TRYAGAIN")} times; longest update after the first ${prefill}: ${longestWaitMs.toFixed(0)} ms`,
      );

      // Steps met the slot while its keys were split (else this test shows nothing).
      expect(met("ASK") + met("TRYAGAIN")).toBeGreaterThan(0);
      expect((await cluster.masterOf(keys.caseMeta(caseId))).port).toBe(target.port);
      await expectKeptOnce(redis, caseId, chats, members, sent);
      expect(Number(await redis.hget(noteKey, "n"))).toBe(notes);
      const logged = (await auditEntries(redis, caseId)).filter((e) => e.op === "note");
      expect(new Set(logged.map((e) => e.params?.n)).size).toBe(notes);
      expect(logged.length).toBe(notes);
      await connection.close();
    },
  );
});
