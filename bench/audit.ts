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

/**
 * Audit log throughput, side by side, against a private loopback redis-server
 * this script starts and stops: raw pipelined XADD (the physical limit), Warden's
 * append with checkpoints on, and the verifier. Goals: append ≥ 20,000/s and
 * ≥ 50 % of raw; verify 1,000,000 entries in ≤ 10 s.
 *
 *   npx tsx bench/audit.ts            (BENCH_AUDIT_APPENDS, BENCH_AUDIT_VERIFY to resize)
 */

const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 200_000);
const VERIFY = Number(process.env.BENCH_AUDIT_VERIFY ?? 1_000_000);
/** Comma-separated subset of append, aof, verify (default: all). */
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

async function startRedis(extra: string[]): Promise<{ url: string; stop(): Promise<void> }> {
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

function sampleInput(i: number) {
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
function grant() {
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
  const report = await verifyCaseLog(redis, "bench", { verifiers: [verifierOf(signer)] });
  if (!report.ok || report.entries !== n)
    throw new Error(`bench log does not verify: ${report.failure?.message}`);
  return { ms, checkpoints };
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
      const rawMs = await rawXadd(redis, APPENDS, payload);
      results.push([
        "raw XADD, pipelined (1000/pipeline)",
        `${rate(APPENDS, rawMs)}  (${APPENDS} in ${Math.round(rawMs)} ms)`,
      ]);
      await redis.flushall();
      const warden = await wardenAppend(redis, APPENDS);
      results.push([
        "Warden append, checkpoint every 1000",
        `${rate(APPENDS, warden.ms)}  (${APPENDS} in ${Math.round(warden.ms)} ms, ${warden.checkpoints} checkpoints, ${Math.round((rawMs / warden.ms) * 100)} % of raw)`,
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
      const report = await verifyEntries(readLineBatches(file), {
        caseId: "bench",
        checkpoints: [note],
        verifiers: [verifier],
      });
      const ms = performance.now() - start;
      if (!report.ok || report.entries !== VERIFY)
        throw new Error(`generated log does not verify: ${report.failure?.message}`);
      results.push([
        "verify from entries.jsonl (schema, canonical bytes, chain, tree, roles, intents, checkpoint)",
        `${rate(VERIFY, ms)}  (${VERIFY} in ${(ms / 1000).toFixed(1)} s; generating them took ${(genMs / 1000).toFixed(1)} s)`,
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
