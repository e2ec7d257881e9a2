import { type ChildProcess, fork } from "node:child_process";
import { cpus } from "node:os";
import { pathToFileURL } from "node:url";
import { sequentialize } from "@grammyjs/runner";
import { RedisAdapter } from "@grammyjs/storage-redis";
import { Bot, type Context, type SessionFlavor, session } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { Redis } from "ioredis";
import pino from "pino";
import { addChat, createCase } from "../src/actions/case-changes.ts";
import { createAuditLog } from "../src/audit/record.ts";
import { createWardenBot } from "../src/bot/create.ts";
import { collectKeys } from "../src/collect/keys.ts";
import { createRecorder } from "../src/collect/recorder.ts";
import { startRedisServer } from "../tests/setup/redis-server.ts";
import { median, medianBy } from "./median.ts";

/**
 * Collection benchmark (issue 6), against a private loopback redis-server.
 *
 * Synthetic group updates (random members, 64 in flight at once) go through
 * `bot.handleUpdate` of
 *   - Warden's recorder as the bot runs it: per-chat ordering (sequentialize)
 *     then the recorder (detection, minimisation, one atomic step per update,
 *     batched `collect` audit entries);
 *   - Warden's whole bot, everything `createWardenBot` installs (ordering,
 *     scenario inbox, recorder, lifecycle, trade guard, commands, approvals,
 *     scenarios and conversations), with the Bot API answered in-process;
 *   - the whole bot in one and in two child processes on the same Redis
 *     (bench/collect-process.ts), the chats split between them as a load
 *     balancer routing by chat would, updates/s of both together; and
 *   - the baseline a developer would write by hand: a bare grammY bot keeping
 *     a per-user session in Redis with @grammyjs/storage-redis, counting each
 *     member's messages and remembering their name.
 * Each run counts what it lost or doubled: the baseline's session plugin
 * reads, changes and writes without a lock, so concurrent updates of one
 * member overwrite each other; Warden's atomic step per update must lose none.
 * CPU per update is this process's (process.cpuUsage) plus the Redis server's
 * (INFO cpu, used_cpu_user + used_cpu_sys, before and after), one server here.
 *
 * Goals: the recorder ≥ 10,000 updates/s per process at ≤ 1.5 × the
 * baseline's cost per update; the whole bot ≥ 20,000 updates/s per process at
 * ≤ 2 × the baseline's CPU per update; Redis memory per tracked member ≤ 1 KB
 * (MEMORY USAGE).
 *
 *   npx tsx bench/collect.ts   (BENCH_COLLECT_UPDATES, BENCH_COLLECT_MEMBERS, BENCH_COLLECT_CHATS,
 *                              BENCH_COLLECT_ROUNDS; BENCH_COLLECT_ONLY=recorder|whole|baseline|processes
 *                              for profiling: one run of that alone;
 *                              BENCH_COLLECT_STATS=1 to print Redis command statistics)
 */

export const UPDATES = Number(process.env.BENCH_COLLECT_UPDATES ?? 40_000);
const MEMBERS = Number(process.env.BENCH_COLLECT_MEMBERS ?? 2_000);
const CHATS = Number(process.env.BENCH_COLLECT_CHATS ?? 16);
const IN_FLIGHT = 64;
/** Alternating baseline/recorder rounds (BENCH_COLLECT_ROUNDS, default 5): single rounds swing ±20 % here. */
const ROUNDS = Number(process.env.BENCH_COLLECT_ROUNDS ?? 5);
export const CASE = "bench-collect";
const logger = pino({ level: "silent" });

export const botInfo: UserFromGetMe = {
  id: 7_000_000_001,
  is_bot: true,
  first_name: "Warden",
  username: "warden_bot",
  can_join_groups: true,
  can_read_all_group_messages: true,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

const TEXTS = [
  "hoi allemaal",
  "wie gaat er mee naar het strand?",
  "5 cobra 6 voor 50 euro, dm",
  "heeft iemand nog vuurwerk over? betaal goed",
  "mooi weer vandaag",
  "ik verkoop 10 dozen romeinse kaarsen, ophalen in Breda",
  "lol 😂😂",
  "weet iemand hoe laat de bus gaat",
];

/** A deterministic pseudo-random sequence, so both runs see the same updates. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function chatIdOf(i: number): number {
  return -1_001_000_000_000 - i;
}

export function updates(count: number): Update[] {
  const next = random(42);
  const out: Update[] = [];
  const date = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const member = Math.floor(next() * MEMBERS);
    const chat = Math.floor(next() * CHATS);
    out.push({
      update_id: 1_000_000 + i,
      message: {
        message_id: 1_000_000 + i,
        date,
        chat: { id: chatIdOf(chat), type: "supergroup", title: `Vuurwerk ${chat}` },
        from: {
          id: 10_000_000 + member,
          is_bot: false,
          first_name: `Lid ${member}`,
          username: `lid_${member}`,
          language_code: "nl",
        },
        text: TEXTS[Math.floor(next() * TEXTS.length)] as string,
      },
    } as Update);
  }
  return out;
}

/** Feeds the updates with `IN_FLIGHT` at a time; resolves with the wall time in ms. */
export async function feed(
  handle: (u: Update) => Promise<unknown>,
  list: Update[],
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < list.length) {
      const u = list[next++] as Update;
      await handle(u);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return performance.now() - started;
}

function expectedCounts(list: Update[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const u of list) {
    const id = u.message?.from?.id as number;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function progress(label: string) {
  if (!process.stderr.isTTY) return () => undefined;
  return () => process.stderr.write(`\r${label}…`);
}

interface Result {
  ms: number;
  lost: number;
  doubled: number;
  /** CPU time per update (µs) of this process and of redis-server. */
  nodeCpu: number;
  redisCpu: number;
}

export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** Feeds the list and measures wall time and CPU (this process and the Redis server). */
async function measured(
  redis: Redis,
  handle: (u: Update) => Promise<unknown>,
  list: Update[],
): Promise<Pick<Result, "ms" | "nodeCpu" | "redisCpu">> {
  const cpu = process.cpuUsage();
  const redisBefore = await redisCpuSeconds(redis);
  const ms = await feed(handle, list);
  const used = process.cpuUsage(cpu);
  const redisCpu = ((await redisCpuSeconds(redis)) - redisBefore) * 1e6;
  return {
    ms,
    nodeCpu: (used.user + used.system) / list.length,
    redisCpu: redisCpu / list.length,
  };
}

/** The Bot API answered in-process: no admins, MEMBERS members, `true` for everything else. */
export async function canned(_prev: unknown, method: string): Promise<never> {
  const result: Record<string, unknown> = {
    getChatAdministrators: [],
    getChatMemberCount: MEMBERS,
  };
  return { ok: true, result: result[method] ?? true } as never;
}

/** A fresh database with the bench's case and its chats. */
async function prepare(redis: Redis): Promise<ReturnType<typeof createAuditLog>> {
  await redis.flushdb();
  const audit = createAuditLog({ redis });
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "bench" } };
  await createCase(deps, { id: CASE, title: "b", authority: "A", purpose: "P", retentionDays: 30 });
  for (let c = 0; c < CHATS; c++)
    await addChat(deps, CASE, { chatId: chatIdOf(c), alias: `c${c}` });
  return audit;
}

/** Warden's whole bot, everything createWardenBot installs, with the Bot API answered in-process. */
export function wholeBot(redis: Redis, audit: ReturnType<typeof createAuditLog>) {
  const warden = createWardenBot({
    token: "7000000001:AAbenchbenchbenchbenchbenchbenchbench",
    apiRoot: "http://127.0.0.1:9",
    redis,
    audit,
    logger,
    throttle: false,
  });
  warden.bot.botInfo = botInfo;
  warden.bot.api.config.use(canned);
  return warden;
}

/** Members' messages the recorder lost or counted twice, against what was sent. */
async function lostAndDoubled(
  redis: Redis,
  sent: Update[],
): Promise<{ lost: number; doubled: number }> {
  const expected = expectedCounts(sent);
  let lost = 0;
  let doubled = 0;
  const pipeline = redis.pipeline();
  for (const id of expected.keys()) pipeline.hget(collectKeys.member(CASE, id), "count:text");
  const got = (await pipeline.exec()) ?? [];
  [...expected.values()].forEach((want, i) => {
    const have = Number(got[i]?.[1] ?? 0);
    if (have < want) lost += want - have;
    if (have > want) doubled += have - want;
  });
  return { lost, doubled };
}

async function runWarden(
  url: string,
  list: Update[],
  warmup: Update[],
  whole: boolean,
): Promise<Result & { memory: number; perMessage: number }> {
  const redis = new Redis(url);
  const audit = await prepare(redis);
  let bot: Bot;
  let close: () => Promise<void>;
  if (whole) {
    const warden = wholeBot(redis, audit);
    bot = warden.bot;
    close = () => warden.close();
  } else {
    // The recorder exactly as src/bot/create.ts installs it: per-chat ordering, then the recorder.
    bot = new Bot("7000000001:AAbenchbenchbenchbenchbenchbenchbench", { botInfo });
    const recorder = createRecorder({ redis, audit, logger, api: bot.api });
    bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString() ?? ctx.from?.id.toString()));
    bot.use(recorder.middleware);
    close = () => recorder.close();
    bot.botInfo = botInfo;
    bot.api.config.use(canned);
  }
  await feed((u) => bot.handleUpdate(u), warmup);
  progress(whole ? "warden bot" : "warden recorder")();
  if (process.env.BENCH_COLLECT_STATS) await redis.call("CONFIG", "RESETSTAT");
  const timing = await measured(redis, (u) => bot.handleUpdate(u), list);
  if (process.env.BENCH_COLLECT_STATS)
    console.log(
      await redis.info("commandstats"),
      (await redis.info("stats"))
        .split("\n")
        .filter((l) => /net_input_bytes|total_reads|total_writes|commands_processed/.test(l))
        .join(" "),
    );
  await close();
  const { lost, doubled } = await lostAndDoubled(redis, [...warmup, ...list]);
  const expected = expectedCounts([...warmup, ...list]);
  // Memory of a tracked member: its hash, name history and status history.
  let bytes = 0;
  const sample = [...expected.keys()].slice(0, 200);
  for (const id of sample) {
    bytes += Number((await redis.call("MEMORY", "USAGE", collectKeys.member(CASE, id))) ?? 0);
    bytes += Number((await redis.call("MEMORY", "USAGE", collectKeys.memberNames(CASE, id))) ?? 0);
  }
  // And per stored message: the message hash, the date index and the per-sender index, averaged.
  let messageBytes = 0;
  let stored = 0;
  for (let c = 0; c < CHATS; c++) {
    messageBytes += Number(
      (await redis.call(
        "MEMORY",
        "USAGE",
        collectKeys.messages(CASE, chatIdOf(c)),
        "SAMPLES",
        "0",
      )) ?? 0,
    );
    messageBytes += Number(
      (await redis.call(
        "MEMORY",
        "USAGE",
        collectKeys.messageDates(CASE, chatIdOf(c)),
        "SAMPLES",
        "0",
      )) ?? 0,
    );
    stored += await redis.hlen(collectKeys.messages(CASE, chatIdOf(c)));
  }
  await audit.close();
  redis.disconnect();
  return {
    ...timing,
    lost,
    doubled,
    memory: bytes / sample.length,
    perMessage: messageBytes / stored,
  };
}

/**
 * Warden's whole bot in `n` child processes on one Redis (bench/collect-process.ts),
 * each handling the chats a load balancer routing by chat would give it. Wall time
 * runs from "go" to the last process done; CPU is the processes' together.
 */
async function runProcesses(
  url: string,
  n: number,
  list: Update[],
  warmup: Update[],
): Promise<Result> {
  const redis = new Redis(url);
  await (await prepare(redis)).close();
  const children = Array.from({ length: n }, (_, part) =>
    fork(new URL("./collect-process.ts", import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, BENCH_COLLECT_PROCESS: JSON.stringify({ url, part, parts: n }) },
    }),
  );
  const next = (child: ChildProcess) =>
    new Promise<{ cpu?: number; handled?: number }>((resolve, reject) => {
      const failed = (code: number | null) =>
        reject(new Error(`a bench process exited (${code}) before it reported`));
      child.once("exit", failed);
      child.once("message", (m) => {
        child.off("exit", failed);
        resolve(m as { cpu?: number });
      });
    });
  const exited = children.map((c) => new Promise((resolve) => c.once("exit", resolve)));
  await Promise.all(children.map(next));
  progress(`${n} processes`)();
  const redisBefore = await redisCpuSeconds(redis);
  const started = performance.now();
  const done = children.map(next);
  for (const c of children) c.send("go");
  const reports = await Promise.all(done);
  const ms = performance.now() - started;
  const redisCpu = ((await redisCpuSeconds(redis)) - redisBefore) * 1e6;
  await Promise.all(exited);
  const handled = reports.reduce((sum, r) => sum + (r.handled ?? 0), 0);
  if (handled !== list.length)
    throw new Error(`the processes handled ${handled} of ${list.length}`);
  const { lost, doubled } = await lostAndDoubled(redis, [...warmup, ...list]);
  redis.disconnect();
  return {
    ms,
    lost,
    doubled,
    nodeCpu: reports.reduce((sum, r) => sum + (r.cpu ?? 0), 0) / list.length,
    redisCpu: redisCpu / list.length,
  };
}

interface MemberSession {
  count: number;
  name: string;
}

async function runBaseline(url: string, list: Update[], warmup: Update[]): Promise<Result> {
  const redis = new Redis(url);
  await redis.flushdb();
  const bot = new Bot<Context & SessionFlavor<MemberSession>>(
    "7000000001:AAbaselinebaselinebaselinebaseline",
    {
      botInfo,
    },
  );
  bot.use(
    session({
      initial: (): MemberSession => ({ count: 0, name: "" }),
      getSessionKey: (ctx) => (ctx.from ? `member:${ctx.from.id}` : undefined),
      storage: new RedisAdapter<MemberSession>({ instance: redis }),
    }),
  );
  bot.on("message", (ctx) => {
    ctx.session.count++;
    ctx.session.name = ctx.from.first_name;
  });
  await feed((u) => bot.handleUpdate(u), warmup);
  progress("baseline")();
  const timing = await measured(redis, (u) => bot.handleUpdate(u), list);
  const expected = expectedCounts([...warmup, ...list]);
  let lost = 0;
  let doubled = 0;
  for (const [id, want] of expected) {
    const raw = await redis.get(`member:${id}`);
    const have = raw ? (JSON.parse(raw) as MemberSession).count : 0;
    if (have < want) lost += want - have;
    if (have > want) doubled += have - want;
  }
  redis.disconnect();
  return { ...timing, lost, doubled };
}

function describe(label: string, r: Result, n: number): string {
  return `  ${label}: ${((n / r.ms) * 1000).toFixed(0)} updates/s, ${((r.ms * 1000) / n).toFixed(1)} µs/update wall; CPU per update ${r.nodeCpu.toFixed(1)} µs Node + ${r.redisCpu.toFixed(1)} µs Redis; lost ${r.lost}, doubled ${r.doubled}`;
}

export async function benchCollect(): Promise<void> {
  const server = await startRedisServer();
  try {
    const all = updates(UPDATES + 2000);
    const warmup = all.slice(0, 2000);
    const list = all.slice(2000);
    const only = process.env.BENCH_COLLECT_ONLY;
    if (only === "processes") {
      for (const n of [1, 2])
        console.log(
          describe(`${n} processes`, await runProcesses(server.url, n, list, warmup), list.length),
        );
      return;
    }
    if (only) {
      // For profiling (node --cpu-prof): one run of one of them.
      const run =
        only === "baseline"
          ? await runBaseline(server.url, list, warmup)
          : await runWarden(server.url, list, warmup, only === "whole");
      console.log(describe(only, run, list.length));
      return;
    }
    // Rounds alternate baseline, recorder and whole bot, so all see the same load on a shared
    // machine; each figure is the median of its rounds, the ratios the median of per-round ratios.
    const bases: Result[] = [];
    const recorders: (Result & { memory: number; perMessage: number })[] = [];
    const wholes: Result[] = [];
    const ones: Result[] = [];
    const twos: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bases.push(await runBaseline(server.url, list, warmup));
      recorders.push(await runWarden(server.url, list, warmup, false));
      wholes.push(await runWarden(server.url, list, warmup, true));
      ones.push(await runProcesses(server.url, 1, list, warmup));
      twos.push(await runProcesses(server.url, 2, list, warmup));
    }
    if (process.stderr.isTTY) process.stderr.write("\r");
    const total = list.length + warmup.length;
    const cost = (r: Result) => r.nodeCpu + r.redisCpu;
    const base = medianBy(bases, (r) => r.ms);
    const recorder = medianBy(recorders, (r) => r.ms);
    const whole = medianBy(wholes, (r) => r.ms);
    const one = medianBy(ones, (r) => r.ms);
    const two = medianBy(twos, (r) => r.ms);
    const ratios = (runs: Result[], of: (r: Result) => number) =>
      runs.map((r, k) => of(r) / of(bases[k] as Result));
    const list2 = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
    const versus = (runs: Result[]) => {
      const wall = ratios(runs, (r) => r.ms);
      const cpu = ratios(runs, cost);
      return `${median(wall).toFixed(2)} × the baseline's wall time (rounds: ${list2(wall)}), ${median(cpu).toFixed(2)} × its CPU (rounds: ${list2(cpu)})`;
    };
    const perSecond = (runs: Result[]) =>
      runs.map((r) => ((list.length / r.ms) * 1000).toFixed(0)).join(", ");
    console.log(
      `\n${list.length} group updates (after ${warmup.length} warm-up), ${MEMBERS} random members in ${CHATS} chats, ${IN_FLIGHT} in flight, loopback redis-server; median of ${ROUNDS} alternating rounds`,
    );
    console.log(
      `${describe("baseline (grammY + @grammyjs/storage-redis session per member)", base, list.length)} (${((100 * base.lost) / total).toFixed(2)}% of ${total} increments)`,
    );
    console.log(
      `${describe("Warden recorder (ordering + recorder)", recorder, list.length)}   goal ≥ 10,000/s, lost 0`,
    );
    console.log(
      `${describe("Warden whole bot (everything createWardenBot installs)", whole, list.length)}   goal ≥ 20,000/s, lost 0`,
    );
    console.log(
      `${describe("Warden whole bot, 1 process (child process, same harness as 2)", one, list.length)}`,
    );
    console.log(
      `${describe("Warden whole bot, 2 processes on one Redis (chats split between them, together)", two, list.length)}`,
    );
    console.log(
      `  updates/s by round: baseline ${perSecond(bases)}; recorder ${perSecond(recorders)}; whole bot ${perSecond(wholes)}; 1 process ${perSecond(ones)}; 2 processes ${perSecond(twos)}`,
    );
    const scaling = twos.map((r, k) => (ones[k] as Result).ms / r.ms);
    console.log(
      `  2 processes against 1: ${median(scaling).toFixed(2)} × the updates/s (rounds: ${list2(scaling)}) on ${cpus().length} cores shared with redis-server`,
    );
    console.log(`  Warden recorder cost per update: ${versus(recorders)}   goal ≤ 1.5 ×`);
    console.log(`  Warden whole bot cost per update: ${versus(wholes)}   goal CPU ≤ 2 ×`);
    console.log(`  Warden whole bot, 2 processes, cost per update: ${versus(twos)}`);
    const redisCpu = (runs: Result[]) => median(runs.map((r) => r.redisCpu)).toFixed(1);
    console.log(
      `  Redis CPU per update, one server (INFO cpu before and after): baseline ${redisCpu(bases)} µs, recorder ${redisCpu(recorders)} µs, whole bot ${redisCpu(wholes)} µs, 2 processes ${redisCpu(twos)} µs`,
    );
    console.log(
      `  Redis memory per tracked member (hash + name history): ${recorder.memory.toFixed(0)} bytes   goal ≤ 1,024; per stored message (hash + date index): ${recorder.perMessage.toFixed(0)} bytes`,
    );
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchCollect();
}
