import { auditKeys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";
import { GENESIS_PREV } from "./entry.ts";
import { decodeHexFrontier, emptyHexFrontier, type HexFrontier } from "./merkle.ts";

/**
 * Where a case's audit log lives in Redis, and how it is read back.
 *
 * - stream `warden:{case}:audit`: one entry per seq, id `0-<seq>`, field `h`
 *   (leaf hash, hex). Explicit ids make Redis refuse reordering or reuse, and
 *   the stream's entries-added counter betrays deletion and trimming.
 * - hash `…:audit:entries`: seq → canonical entry bytes, or the tombstone that
 *   replaced them when the payload was erased. Payloads are kept apart from the
 *   stream because a stream entry cannot be rewritten, and erasure must be possible.
 * - hash `…:audit:head`: seq, hash (last leaf), ts, frontier (Merkle right edge).
 * - hash `…:audit:intents`: intent seq → op, for intents still awaiting their outcome.
 * - stream `…:audit:checkpoints`: id `0-<tree size>`, field `n` (the signed note).
 *
 * The keys are declared in the registry (src/store/layout/audit.ts).
 */
export { auditKeys };

export interface StoredHead {
  seq: number;
  hash: string;
  ts: string;
  frontier: HexFrontier;
}

export async function readHead(redis: Redis, caseId: string): Promise<StoredHead> {
  const [seq, hash, ts, frontier] = await redis.hmget(
    auditKeys.head(caseId),
    "seq",
    "hash",
    "ts",
    "frontier",
  );
  const size = Number(seq ?? 0);
  return {
    seq: size,
    hash: hash ?? GENESIS_PREV,
    ts: ts ?? "",
    frontier: size === 0 ? emptyHexFrontier() : decodeHexFrontier(size, frontier ?? ""),
  };
}

/** Only where the head points: what the verifier compares, without trusting the stored frontier. */
export async function readHeadPosition(
  redis: Redis,
  caseId: string,
): Promise<{ seq: number; hash: string }> {
  const [seq, hash] = await redis.hmget(auditKeys.head(caseId), "seq", "hash");
  return { seq: Number(seq ?? 0), hash: hash ?? GENESIS_PREV };
}

/**
 * The head and the seq of the stream's last entry, read at one instant (one
 * MULTI). The append script moves both together, so on an intact log they
 * agree whatever is being appended meanwhile.
 */
export async function readHeadAndTop(
  redis: Redis,
  caseId: string,
): Promise<{ head: { seq: number; hash: string }; topSeq: number }> {
  const replies = await redis
    .multi()
    .hmget(auditKeys.head(caseId), "seq", "hash")
    .xrevrange(auditKeys.stream(caseId), "+", "-", "COUNT", 1)
    .exec();
  const [headErr, headReply] = replies?.[0] ?? [new Error("no reply from Redis")];
  const [topErr, topReply] = replies?.[1] ?? [new Error("no reply from Redis")];
  if (headErr) throw headErr;
  if (topErr) throw topErr;
  const [seq, hash] = headReply as (string | null)[];
  const top = (topReply as StreamPage)[0];
  return {
    head: { seq: Number(seq ?? 0), hash: hash ?? GENESIS_PREV },
    topSeq: top ? seqOfStreamId(top[0]) : 0,
  };
}

/** One stored entry as read back: the payload (entry or tombstone) and what the stream says about it. */
export interface StoredLine {
  /** Canonical entry bytes or a tombstone; null when the payload is missing. */
  line: string | null;
  /** The seq the stream id names; NaN when the id is not of the form `0-<seq>`. */
  seq?: number;
  /** The leaf hash the stream holds for it. */
  hash?: string;
  /** The raw stream id, for messages. */
  id?: string;
}

/** The seq of a stream id `0-<seq>` (ioredis-mock reports it as `0-<seq>-0`). */
export function seqOfStreamId(id: string): number {
  const match = /^0-(\d{1,16})(?:-0)?$/.exec(id);
  return match ? Number(match[1]) : Number.NaN;
}

type StreamPage = [id: string, fields: string[]][];

function hashField(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "h") return fields[i + 1];
  return undefined;
}

/**
 * Reads the log in stream order, page by page, fetching the next page while the
 * caller verifies the current one: constant memory, whatever the log's length.
 * With `payloads: false` only the stream is read (`line` is then null): what
 * a consistency proof needs, the leaf hashes, without the entries' bytes.
 */
export async function* readStoredLines(
  redis: Redis,
  caseId: string,
  opts: { pageSize?: number; upTo?: number; payloads?: boolean } = {},
): AsyncGenerator<StoredLine> {
  const pageSize = opts.pageSize ?? 2000;
  const stream = auditKeys.stream(caseId);
  const payloads = auditKeys.payloads(caseId);
  const fetchPage = async (start: string, count?: number) => {
    const page = (
      count === undefined
        ? await redis.xrange(stream, start, "+")
        : await redis.xrange(stream, start, "+", "COUNT", count)
    ) as StreamPage;
    const seqs = page.map(([id]) => seqOfStreamId(id));
    const lines =
      page.length && opts.payloads !== false
        ? await redis.hmget(payloads, ...seqs.map((s) => (Number.isNaN(s) ? "-" : String(s))))
        : [];
    return page.map(
      ([id, fields], k): StoredLine => ({
        id,
        seq: seqs[k],
        hash: hashField(fields),
        line: lines[k] ?? null,
      }),
    );
  };
  let page = await fetchPage("-", pageSize);
  // ioredis-mock cannot range from a given id: it holds rehearsal-sized logs, so read it whole.
  const mock = page[0]?.id?.split("-").length === 3;
  if (mock) page = await fetchPage("-");
  while (page.length > 0) {
    const last = page[page.length - 1] as StoredLine;
    const more =
      !mock && page.length === pageSize && (opts.upTo === undefined || (last.seq ?? 0) < opts.upTo);
    const next = more ? fetchPage(`(${last.id}`, pageSize) : undefined;
    // If the caller stops early, a failed prefetch must not become an unhandled rejection.
    next?.catch(() => undefined);
    for (const line of page) {
      if (opts.upTo !== undefined && (line.seq ?? 0) > opts.upTo) return;
      yield line;
    }
    page = next ? await next : [];
  }
}

export async function readCheckpointNotes(redis: Redis, caseId: string): Promise<string[]> {
  const page = (await redis.xrange(auditKeys.checkpoints(caseId), "-", "+")) as StreamPage;
  return page.map(([, fields]) => {
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === "n") return fields[i + 1] ?? "";
    return "";
  });
}

/** XINFO STREAM's counters; undefined where unsupported (ioredis-mock). */
export async function streamCounters(
  redis: Redis,
  caseId: string,
): Promise<{ length: number; entriesAdded: number } | undefined> {
  let info: unknown[];
  try {
    info = (await redis.xinfo("STREAM", auditKeys.stream(caseId))) as unknown[];
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) return { length: 0, entriesAdded: 0 };
    if (/unsupported|unknown command/i.test((err as Error).message)) return undefined;
    throw err;
  }
  const field = (name: string) => Number(info[info.indexOf(name) + 1]);
  return { length: field("length"), entriesAdded: field("entries-added") };
}

/**
 * The leaf hashes of entries 1…upTo as the stream holds them, in order;
 * throws where the stream skips or repeats a seq, since every later leaf
 * would then be proved in the wrong place.
 */
export async function* readLeafHashes(
  redis: Redis,
  caseId: string,
  upTo: number,
): AsyncGenerator<string> {
  let expected = 1;
  for await (const stored of readStoredLines(redis, caseId, { upTo, payloads: false })) {
    if (stored.seq !== expected || stored.hash === undefined) {
      throw new Error(
        `the audit stream holds ${stored.id ?? "an entry"} where seq ${expected} belongs: run \`warden audit verify --case ${caseId}\``,
      );
    }
    yield stored.hash;
    expected++;
  }
}
