import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { ephemeralSigner, signCheckpoint, verifierOf } from "../src/audit/checkpoint.ts";
import { type AuditEntry, canonicalBytes, GENESIS_PREV } from "../src/audit/entry.ts";
import { readLineBatches } from "../src/audit/lines.ts";
import { appendLeaf, emptyFrontier, frontierRoot, leafHash } from "../src/audit/merkle.ts";
import { createAuditLog } from "../src/audit/record.ts";
import { verifyEntries } from "../src/audit/verify.ts";
import { verifyCaseLog } from "../src/audit/verify-case.ts";
import { poolStats } from "../src/audit/verify-pool.ts";
import { median } from "./median.ts";

/**
 * Audit log throughput, side by side, against a private loopback redis-server
 * this script starts and stops: raw pipelined XADD (the physical limit), Warden's
 * append with checkpoints on, and the verifier. Goals: append ≥ 20,000/s and
 * ≥ 50 % of raw; verify 1,000,000 entries in ≤ 10 s.
 *
 *   npx tsx bench/audit.ts   (BENCH_AUDIT_APPENDS, BENCH_AUDIT_VERIFY to resize,
 *                             BENCH_AUDIT_ROUNDS alternating raw/Warden rounds,
 *                             BENCH_AUDIT_PARTS=append,aof,verify to pick,
 *                             BENCH_AUDIT_BATCH / BENCH_AUDIT_DEPTH to try other
 *                             maxBatch / pipelineDepth settings, BENCH_AUDIT_THREADS
 *                             for verify's worker threads, 0 for none)
 */

const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 200_000);
const VERIFY = Number(process.env.BENCH_AUDIT_VERIFY ?? 1_000_000);
/** Comma-separated subset of append, aof, verify (default: all). */
/** Alternating raw/Warden rounds of the append comparison (default 3). */
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 3);
const THREADS = process.env.BENCH_AUDIT_THREADS;
const PARTS = new Set((process.env.BENCH_AUDIT_PARTS ?? "append,aof,verify").split(","));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object"
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

export async function startRedis(extra: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "warden-bench-"));
  const child: ChildProcess = spawn(
    process.env.REDIS_SERVER_BIN ?? "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  child.stdout?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

const software = { version: "bench", commit: "bench" };

export function sampleInput(i: number) {
  return {
    case: "bench",
    actor: { kind: "operator" as const, id: 5550001, name: "Officer A", role: "operator" as const },
    op: "collect",
    phase: "info" as const,
    target: { chat_id: -1001234567890, alias: "fw1", user_ids: [700000 + (i % 5000)] },
    params: {
      username: `member_${i % 5000}`,
      first_name: "Some Name",
      message_id: i,
      kind: "join",
    },
    authority: "StA 12 Js 345/25",
    purpose: "stop the sale of banned fireworks",
  };
}

/** Entry 1 of every bench log: the role the sample actor acts under, so verify's role check has work to do. */
export function grant() {
  return {
    case: "bench",
    actor: { kind: "cli" as const, name: "bench@server" },
    op: "role.add",
    phase: "info" as const,
    target: { user_ids: [5550001] },
    params: { role: "operator", name: "Officer A" },
    authority: "StA 12 Js 345/25",
    purpose: "stop the sale of banned fireworks",
  };
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString("en")}/s`;
}

/** Redis's own CPU seconds (user + sys), from INFO cpu. */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

interface Timed {
  ms: number;
  /** CPU µs per entry spent by this process and by redis-server. */
  nodeCpu: number;
  redisCpu: number;
}

async function timed(redis: Redis, n: number, run: () => Promise<void>): Promise<Timed> {
  const redis0 = await redisCpu(redis);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = ((await redisCpu(redis)) - redis0) * 1e6;
  return { ms, nodeCpu: (cpu.user + cpu.system) / n, redisCpu: redisUs / n };
}

function cpuNote(t: Timed): string {
  return `CPU/entry: node ${t.nodeCpu.toFixed(1)} µs, redis ${t.redisCpu.toFixed(1)} µs`;
}

async function rawXadd(redis: Redis, n: number, payload: string): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const pipe = redis.pipeline();
    for (let k = i; k < Math.min(n, i + 1000); k++)
      pipe.xadd("raw", `0-${k + 1}`, "e", payload, "h", "0".repeat(64));
    await pipe.exec();
  }
  return performance.now() - start;
}

async function wardenAppend(redis: Redis, n: number): Promise<{ ms: number; checkpoints: number }> {
  const signer = ephemeralSigner("bench");
  const log = createAuditLog({
    redis,
    signer,
    software,
    checkpointEvery: 1000,
    checkpointIntervalMs: 1000,
    ...(process.env.BENCH_AUDIT_BATCH ? { maxBatch: Number(process.env.BENCH_AUDIT_BATCH) } : {}),
    ...(process.env.BENCH_AUDIT_DEPTH
      ? { pipelineDepth: Number(process.env.BENCH_AUDIT_DEPTH) }
      : {}),
  });
  await log.record(grant());
  const start = performance.now();
  // Callers in flight at once, as many concurrent updates would be; record() coalesces them.
  const window = 5000;
  for (let i = 1; i < n; i += window) {
    const burst: Promise<unknown>[] = [];
    for (let k = i; k < Math.min(n, i + window); k++) burst.push(log.record(sampleInput(k)));
    await Promise.all(burst);
  }
  await log.close();
  const ms = performance.now() - start;
  const checkpoints = await redis.xlen("warden:{bench}:audit:checkpoints");
  verifiers.set(redis, verifierOf(signer));
  return { ms, checkpoints };
}

const verifiers = new WeakMap<Redis, ReturnType<typeof verifierOf>>();

/** The log just appended must verify, signatures included: a fast append that breaks the chain is no result. */
async function verifyBenchLog(redis: Redis, n: number): Promise<void> {
  const verifier = verifiers.get(redis);
  const report = await verifyCaseLog(redis, "bench", { verifiers: verifier ? [verifier] : [] });
  if (!report.ok || report.entries !== n)
    throw new Error(`bench log does not verify: ${report.failure?.message}`);
}

/** Writes n chained entries to a file, as an export would, with one signed checkpoint at the end. */
export async function generate(path: string, n: number): Promise<string> {
  const signer = ephemeralSigner("bench");
  const out = createWriteStream(path);
  const tree = emptyFrontier();
  let prev = GENESIS_PREV;
  const ts = Date.parse("2025-03-01T00:00:00.000Z");
  for (let i = 1; i <= n; i++) {
    const entry: AuditEntry = {
      ...(i === 1 ? grant() : sampleInput(i)),
      seq: i,
      ts: new Date(ts + i).toISOString(),
      software,
      prev,
    };
    const line = canonicalBytes(entry);
    const leaf = leafHash(line);
    appendLeaf(tree, leaf);
    prev = leaf.toString("hex");
    if (!out.write(`${line}\n`))
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return signCheckpoint(signer, "warden/bench", n, frontierRoot(tree)) + signer.verifierKey;
}

export async function benchAudit(): Promise<void> {
  const results: [string, string][] = [];
  if (PARTS.has("append")) {
    const redisServer = await startRedis(["--appendonly", "no"]);
    const redis = new Redis(redisServer.url);
    try {
      const payload = canonicalBytes({
        ...sampleInput(1),
        seq: 1,
        ts: new Date().toISOString(),
        software,
        prev: GENESIS_PREV,
      });
      // Rounds alternate raw and Warden so that both see the same load on a shared machine.
      const raws: Timed[] = [];
      const wardens: (Timed & { checkpoints: number })[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        await redis.flushall();
        raws.push(
          await timed(redis, APPENDS, async () => {
            await rawXadd(redis, APPENDS, payload);
          }),
        );
        await redis.flushall();
        let checkpoints = 0;
        const t = await timed(redis, APPENDS, async () => {
          checkpoints = (await wardenAppend(redis, APPENDS)).checkpoints;
        });
        wardens.push({ ...t, checkpoints });
        await verifyBenchLog(redis, APPENDS);
      }
      const rawMs = median(raws.map((r) => r.ms));
      const wardenMs = median(wardens.map((w) => w.ms));
      const ratios = raws.map((r, k) => Math.round((r.ms / (wardens[k] as Timed).ms) * 100));
      const mid = (list: Timed[], ms: number) => list.find((t) => t.ms === ms) as Timed;
      results.push([
        `raw XADD, pipelined (1000/pipeline), median of ${ROUNDS}`,
        `${rate(APPENDS, rawMs)}  (${APPENDS} in ${Math.round(rawMs)} ms; ${cpuNote(mid(raws, rawMs))})`,
      ]);
      results.push([
        `Warden append, checkpoint every 1000, median of ${ROUNDS}`,
        `${rate(APPENDS, wardenMs)}  (${APPENDS} in ${Math.round(wardenMs)} ms, ${(wardens[0] as { checkpoints: number }).checkpoints} checkpoints, ${Math.round((rawMs / wardenMs) * 100)} % of raw; per round ${ratios.join(", ")} %; ${cpuNote(mid(wardens, wardenMs))})`,
      ]);
    } finally {
      redis.disconnect();
      await redisServer.stop();
    }
  }
  if (PARTS.has("aof")) {
    const aofServer = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    const aofRedis = new Redis(aofServer.url);
    try {
      const n = Math.min(APPENDS, 50_000);
      const aof = await wardenAppend(aofRedis, n);
      await verifyBenchLog(aofRedis, n);
      results.push([
        "Warden append, AOF appendfsync always",
        `${rate(n, aof.ms)}  (${n} in ${Math.round(aof.ms)} ms)`,
      ]);
    } finally {
      aofRedis.disconnect();
      await aofServer.stop();
    }
  }
  if (PARTS.has("verify")) {
    const dir = mkdtempSync(join(tmpdir(), "warden-bench-verify-"));
    try {
      const file = join(dir, "entries.jsonl");
      const genStart = performance.now();
      const signed = await generate(file, VERIFY);
      const genMs = performance.now() - genStart;
      const split = signed.lastIndexOf("\n") + 1;
      const note = signed.slice(0, split);
      const verifier = verifierOf({ verifierKey: signed.slice(split) } as never);
      const start = performance.now();
      // Timed from the first byte read: reading and splitting the file is part of verifying it.
      const batches = { ...poolStats };
      const report = await verifyEntries(readLineBatches(file), {
        caseId: "bench",
        checkpoints: [note],
        verifiers: [verifier],
        ...(THREADS === undefined ? {} : { threads: Number(THREADS) }),
      });
      const ms = performance.now() - start;
      if (!report.ok || report.entries !== VERIFY)
        throw new Error(`generated log does not verify: ${report.failure?.message}`);
      results.push([
        "verify from entries.jsonl (schema, canonical bytes, chain, tree, roles, intents, checkpoint)",
        `${rate(VERIFY, ms)}  (${VERIFY} in ${(ms / 1000).toFixed(1)} s; batches of 2048 checked by workers ${poolStats.workerBatches - batches.workerBatches}, by the calling thread ${poolStats.localBatches - batches.localBatches}; generating them took ${(genMs / 1000).toFixed(1)} s)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const width = Math.max(...results.map(([k]) => k.length));
  for (const [k, v] of results) console.log(`${k.padEnd(width)}  ${v}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchAudit();
}
