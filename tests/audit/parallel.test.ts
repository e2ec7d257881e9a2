import { describe, expect, it } from "vitest";
import { ephemeralSigner, signCheckpoint, verifierOf } from "../../src/audit/checkpoint.ts";
import { type AuditEntry, canonicalBytes, GENESIS_PREV } from "../../src/audit/entry.ts";
import {
  appendLeafHex,
  emptyHexFrontier,
  hexFrontierRoot,
  leafHashHex,
} from "../../src/audit/merkle.ts";
import type { StoredLine } from "../../src/audit/storage.ts";
import {
  type LineInput,
  type LineSource,
  PARALLEL_FROM,
  type VerifyOptions,
  type VerifyReport,
  verifyEntries,
} from "../../src/audit/verify.ts";
import { poolStats } from "../../src/audit/verify-pool.ts";

/**
 * A long log is verified by worker threads and the calling thread together;
 * whatever the log holds, the report must be the one the calling thread alone
 * gives: same failure, same seq, same words, same warnings, same root.
 */

const CASE = "parallel";
const OPERATOR = 5550001;
const SUPERVISOR = 5550002;
const BASE = Date.parse("2025-03-01T00:00:00.000Z");
const signer = ephemeralSigner("parallel-test");
const verifiers = [verifierOf(signer)];

interface Shape {
  n: number;
  /** The erase entry, and the collect entries it erased (tombstones in the log). */
  eraseAt: number;
  erased: number[];
  /** An entry whose clock is 5 s behind (a warning). */
  stepBackAt: number;
  /** Checkpoints are signed at these sizes. */
  checkpointsAt: number[];
}

function entryAt(seq: number, shape: Shape): Omit<AuditEntry, "prev"> {
  const common = {
    seq,
    case: CASE,
    ts: new Date(BASE + seq - (seq === shape.stepBackAt ? 5000 : 0)).toISOString(),
    authority: "order 1/25",
    purpose: "test",
    software: { version: "test", commit: "test" },
  };
  if (seq === 1 || seq === 2) {
    return {
      ...common,
      actor: { kind: "cli", name: "tester@server" },
      op: "role.add",
      phase: "info",
      target: { user_ids: [seq === 1 ? OPERATOR : SUPERVISOR] },
      params: { role: seq === 1 ? "operator" : "supervisor" },
    };
  }
  if (seq === shape.eraseAt) {
    return {
      ...common,
      actor: { kind: "supervisor", id: SUPERVISOR, role: "supervisor" },
      op: "erase",
      phase: "info",
      // What it erased, by operation: a verifier holds this against the ops never to be erased.
      params: { seqs: shape.erased, ops: { collect: shape.erased.map((s) => [s, s]) } },
    };
  }
  const supervisor = { kind: "supervisor" as const, id: SUPERVISOR };
  if (seq % 10 === 3) {
    return {
      ...common,
      actor: supervisor,
      op: "ban",
      phase: "intent",
      target: { user_ids: [seq] },
    };
  }
  if (seq % 10 === 4) {
    return {
      ...common,
      actor: supervisor,
      op: "ban",
      phase: "outcome",
      intent_seq: seq - 1,
      result: { ok: true },
    };
  }
  if (seq % 97 === 0) {
    return { ...common, actor: { kind: "member", id: 42 }, op: "warn", phase: "refused" };
  }
  if (seq % 101 === 0) return { ...common, actor: { kind: "system" }, op: "freeze", phase: "info" };
  return {
    ...common,
    actor: { kind: "operator", id: OPERATOR, name: "Officer Ä", role: "operator" },
    op: "collect",
    phase: "info",
    target: { chat_id: -1001234567890, user_ids: [700000 + (seq % 5000)] },
    params: { message_id: seq, text: `message ${seq}` },
  };
}

interface Log {
  lines: string[];
  checkpoints: string[];
}

/** A sound log of `shape`, with `edit` applied to entries before they are chained. */
function build(shape: Shape, edit?: (entry: Record<string, unknown>) => void): Log {
  const lines: string[] = [];
  const leaves: string[] = [];
  const checkpoints: string[] = [];
  const tree = emptyHexFrontier();
  let prev = GENESIS_PREV;
  for (let seq = 1; seq <= shape.n; seq++) {
    const entry: Record<string, unknown> = { ...entryAt(seq, shape), prev };
    edit?.(entry);
    const line = canonicalBytes(entry);
    prev = leafHashHex(line);
    lines.push(line);
    leaves.push(prev);
    appendLeafHex(tree, prev);
    if (shape.checkpointsAt.includes(seq))
      checkpoints.push(signCheckpoint(signer, `warden/${CASE}`, seq, hexFrontierRoot(tree)));
  }
  for (const seq of shape.erased) {
    lines[seq - 1] = tombstone(seq, shape.eraseAt, leaves[seq - 1] as string);
  }
  return { lines, checkpoints };
}

function tombstone(seq: number, erasedBy: number, leaf: string): string {
  return canonicalBytes({ erased_by: erasedBy, leaf, seq });
}

/** The entry at `seq`, edited and written back in canonical form (the chain after it breaks). */
function edited(lines: string[], seq: number, edit: (entry: Record<string, unknown>) => void) {
  const copy = lines.slice();
  const entry = JSON.parse(copy[seq - 1] as string) as Record<string, unknown>;
  edit(entry);
  copy[seq - 1] = canonicalBytes(entry);
  return copy;
}

/** The report of the calling thread alone, and of workers and it together. */
async function both(
  source: (parallel: boolean) => LineSource,
  checkpoints: string[],
  opts: Partial<VerifyOptions> = {},
): Promise<[VerifyReport, VerifyReport]> {
  const single = await verifyEntries(source(false), {
    caseId: CASE,
    checkpoints,
    verifiers,
    threads: 0,
    ...opts,
  });
  const parallel = await verifyEntries(source(true), {
    caseId: CASE,
    checkpoints,
    verifiers,
    threads: 1,
    ...opts,
  });
  return [single, parallel];
}

/** Yields `lines` with a pause once the pool exists, until a worker has started: so that workers do take batches. */
async function* waitingForWorkers(lines: string[], pauseAt: number): AsyncGenerator<string[]> {
  const ready = poolStats.workersReady;
  yield lines.slice(0, pauseAt);
  const until = Date.now() + 20_000;
  while (poolStats.workersReady === ready && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 5));
  for (let i = pauseAt; i < lines.length; i += 5000) yield lines.slice(i, i + 5000);
}

describe("parallel verify of a log longer than PARALLEL_FROM", () => {
  const shape: Shape = {
    n: 32_000,
    eraseAt: 25_000,
    erased: [24_990, 24_991],
    stepBackAt: 28_000,
    checkpointsAt: [10_000, 25_001, 32_000],
  };
  const log = build(shape);
  const T = 30_000;
  const pauseAt = PARALLEL_FROM + 3000;
  const run = async (lines: string[]) => {
    const batches = poolStats.workerBatches;
    const reports = await both(
      (parallel) => (parallel ? waitingForWorkers(lines, pauseAt) : [lines]),
      log.checkpoints,
    );
    // Workers did take part: the point of the comparison.
    expect(poolStats.workerBatches).toBeGreaterThan(batches);
    return reports;
  };

  it("passes a sound log with the same report as one thread", async () => {
    const [single, parallel] = await run(log.lines);
    expect(single).toMatchObject({ ok: true, entries: shape.n, erased: 2, signedSize: shape.n });
    expect(single.warnings.map((w) => w.seq)).toContain(shape.stepBackAt);
    expect(parallel).toEqual(single);
  });

  it("names a changed entry deep in the log as one thread does", async () => {
    const lines = edited(log.lines, T, (e) => {
      (e.params as Record<string, unknown>).text = "something else";
    });
    const [single, parallel] = await run(lines);
    expect(single.failure).toEqual({
      seq: T,
      message: `seq ${T} does not hash to the prev recorded by seq ${T + 1}: seq ${T} (or seq ${T + 1}) was changed`,
    });
    expect(parallel).toEqual(single);
  });

  it("names a line out of canonical form as one thread does", async () => {
    const lines = log.lines.slice();
    lines[T - 1] = (lines[T - 1] as string).replace('{"actor"', '{ "actor"');
    const [single, parallel] = await run(lines);
    expect(single.failure).toEqual({
      seq: T,
      message: `line ${T} is not in canonical form (RFC 8785): it was edited`,
    });
    expect(parallel).toEqual(single);
  });

  it("names a schema violation as one thread does", async () => {
    const lines = edited(log.lines, T, (e) => {
      e.phase = "maybe";
    });
    const [single, parallel] = await run(lines);
    expect(single.failure?.seq).toBe(T);
    expect(single.failure?.message).toMatch(/does not match the entry schema at phase/);
    expect(parallel).toEqual(single);
  });
});

describe("parallel verify finds what one thread finds", () => {
  // A shorter log, workers joining after 1000 lines: the same code paths at a fraction of the time.
  const shape: Shape = {
    n: 6500,
    eraseAt: 3000,
    erased: [2990, 2991],
    stepBackAt: 3500,
    checkpointsAt: [2000, 5000, 6500],
  };
  const log = build(shape);
  const T = 5000;
  const compare = async (lines: LineInput[], expected: { seq: number; message: RegExp } | "ok") => {
    const [single, parallel] = await both(() => [lines], log.checkpoints, { parallelFrom: 1000 });
    if (expected === "ok") expect(single.ok).toBe(true);
    else {
      expect(single.failure?.seq).toBe(expected.seq);
      expect(single.failure?.message).toMatch(expected.message);
    }
    expect(parallel).toEqual(single);
  };
  const entry = (lines: string[], seq: number, edit: (e: Record<string, unknown>) => void) =>
    edited(lines, seq, edit);

  it("a sound log, entry by entry", async () => {
    const seen: [(AuditEntry | undefined)[], (AuditEntry | undefined)[]] = [[], []];
    const [single, parallel] = await Promise.all(
      [0, 1].map((threads) =>
        verifyEntries([log.lines], {
          caseId: CASE,
          checkpoints: log.checkpoints,
          verifiers,
          threads,
          parallelFrom: 1000,
          onEntry: (e, seq) => {
            (seen[threads] as unknown[]).push(e ?? seq);
          },
        }),
      ),
    );
    expect(single?.ok).toBe(true);
    expect(parallel).toEqual(single);
    expect(seen[0]).toHaveLength(shape.n);
    expect(seen[1]).toEqual(seen[0]);
  });

  it("lines that are not JSON, or not canonical", async () => {
    const lines = log.lines.slice();
    lines[T - 1] = (lines[T - 1] as string).slice(0, -1);
    await compare(lines, { seq: T, message: /is not JSON/ });
    lines[T - 1] = (log.lines[T - 1] as string).replace('"collect"', '"coll\\u0065ct"');
    await compare(lines, { seq: T, message: /canonical form/ });
  });

  it("entries deleted, repeated, of another case", async () => {
    await compare([...log.lines.slice(0, T - 1), ...log.lines.slice(T)], {
      seq: T,
      message: new RegExp(`expected seq ${T}, found seq ${T + 1}`),
    });
    await compare([...log.lines.slice(0, T), ...log.lines.slice(T - 1)], {
      seq: T + 1,
      message: new RegExp(`expected seq ${T + 1}, found seq ${T}`),
    });
    await compare(
      entry(log.lines, T, (e) => {
        e.case = "other";
      }),
      { seq: T, message: /belongs to case "other"/ },
    );
  });

  it("roles, intents and outcomes", async () => {
    await compare(
      entry(log.lines, T, (e) => {
        e.actor = { kind: "operator", id: 999, role: "operator" };
      }),
      { seq: T, message: /user 999 acted as operator but held no role/ },
    );
    await compare(
      entry(log.lines, T, (e) => {
        e.actor = { kind: "operator", id: OPERATOR, role: "supervisor" };
      }),
      { seq: T, message: /the entry says user 5550001 held supervisor/ },
    );
    await compare(
      entry(log.lines, T, (e) => {
        e.actor = { kind: "member", id: 42 };
      }),
      { seq: T, message: /someone without a role \(42\)/ },
    );
    await compare(
      entry(log.lines, T, (e) => {
        e.actor = { kind: "auditor" };
      }),
      { seq: T, message: /an auditor acted without a Telegram id/ },
    );
    await compare(
      entry(log.lines, T + 4, (e) => {
        e.intent_seq = T + 1;
      }),
      { seq: T + 4, message: new RegExp(`outcome of seq ${T + 1}, which is not an intent`) },
    );
    await compare(
      entry(log.lines, T + 4, (e) => {
        e.intent_seq = T - 7;
      }),
      { seq: T + 4, message: new RegExp(`second outcome of intent seq ${T - 7}`) },
    );
  });

  it("a rewritten chain against the checkpoints", async () => {
    const rewritten = build(shape, (e) => {
      if (e.seq === T - 500) e.params = { message_id: 1, text: "rewritten" };
    });
    await compare(rewritten.lines, {
      seq: T,
      message: new RegExp(`entries 1–${T} do not match the signed checkpoint`),
    });
    await compare(log.lines.slice(0, T + 100), {
      seq: T + 101,
      message: /a checkpoint covers 6500 entries/,
    });
  });

  it("erasures", async () => {
    const lines = log.lines.slice();
    const leaf = (JSON.parse(lines[2989] as string) as { leaf: string }).leaf;
    lines[2989] = tombstone(2990, 2995, leaf);
    await compare(lines, {
      seq: 2995,
      message: /claim to be erased by seq 2995, which is a collect/,
    });
    lines[2989] = tombstone(2990, 2000, leaf);
    await compare(lines, { seq: 2990, message: /erased by an earlier entry/ });
    lines[2989] = tombstone(2989, 3000, leaf);
    await compare(lines, { seq: 2990, message: /tombstone for seq 2989 found/ });
    lines[2989] = canonicalBytes({ erased_by: 3000, leaf: "x", seq: 2990 });
    await compare(lines, { seq: 2990, message: /malformed erasure tombstone/ });
  });

  it("what Redis holds next to the payloads", async () => {
    const stored = (): StoredLine[] =>
      log.lines.map((line, k) => ({
        line,
        seq: k + 1,
        id: `0-${k + 1}`,
        hash: leafHashHex(line),
      }));
    const withHash = stored();
    // Tombstones keep the leaf of what they replaced.
    for (const seq of shape.erased)
      (withHash[seq - 1] as StoredLine).hash = (
        JSON.parse(log.lines[seq - 1] as string) as { leaf: string }
      ).leaf;
    await compare(withHash, "ok");
    const altered = withHash.slice();
    altered[T - 1] = { ...(altered[T - 1] as StoredLine), hash: "0".repeat(64) };
    await compare(altered, { seq: T, message: /does not match the hash the stream holds/ });
    const missing = withHash.slice();
    missing[T - 1] = { ...(missing[T - 1] as StoredLine), line: null };
    await compare(missing, { seq: T, message: new RegExp(`payload of seq ${T} is missing`) });
    const gap = withHash.slice();
    gap[T - 1] = { ...(gap[T - 1] as StoredLine), seq: T + 1 };
    await compare(gap, {
      seq: T,
      message: new RegExp(`seq ${T} is missing: the stream goes on with seq ${T + 1}`),
    });
    const inserted = withHash.slice();
    inserted[T - 1] = { ...(inserted[T - 1] as StoredLine), seq: Number.NaN, id: "1-1" };
    await compare(inserted, { seq: T, message: /stream id 1-1 is not of the form/ });
  });

  it("stops its workers when the source fails", async () => {
    async function* failing(): AsyncGenerator<string[]> {
      yield log.lines.slice(0, 5000);
      throw new Error("disk gone");
    }
    await expect(
      verifyEntries(failing(), { caseId: CASE, parallelFrom: 1000, threads: 1 }),
    ).rejects.toThrow("disk gone");
  });
});
