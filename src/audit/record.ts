import type { Redis } from "ioredis";
import type { Precondition, RedisWrite } from "../store/cases.ts";
import { getCase } from "../store/cases.ts";
import { checkpointOrigin, type Signer, signCheckpoint } from "./checkpoint.ts";
import {
  type AuditEntry,
  type AuditEntryInput,
  auditEntrySchema,
  canonicalBytes,
  GENESIS_PREV,
} from "./entry.ts";
import {
  appendLeaf,
  cloneFrontier,
  encodeFrontier,
  type Frontier,
  frontierRoot,
  leafHash,
} from "./merkle.ts";
import { currentSoftware, type Software } from "./software.ts";
import { auditKeys, readHead, type StoredHead } from "./storage.ts";

/**
 * Appends to a case's audit log. One Lua script checks that the log's head is
 * still the one the new entries chain from, checks the caller's preconditions,
 * adds the entries and applies the state changes they explain: Redis applies
 * all of it or none, and two processes writing the same case keep one chain.
 *
 * Concurrent `record` calls for one case are coalesced into one script call
 * (up to `maxBatch` entries), which is how the log keeps up with bursts; a
 * single call is sent at once, so nobody waits for a batch to fill.
 */

/** A mutation's precondition did not hold; nothing was written. The message says what to do. */
export class RecordRefusedError extends Error {
  override name = "RecordRefusedError";
}

/** The log could not be appended to (Redis down, chain contention); the guarded action must not run. */
export class AuditUnavailableError extends Error {
  override name = "AuditUnavailableError";
}

export interface RecordOptions {
  /**
   * State changes applied in the same atomic step as the entry. A function gets
   * the entry as it will be stored, for writes that must name its seq.
   */
  writes?: readonly RedisWrite[] | ((entry: AuditEntry) => readonly RedisWrite[]);
  /** Checked atomically first; if one fails, nothing is written and `RecordRefusedError` is thrown. */
  preconditions?: readonly Precondition[];
}

export interface AuditLog {
  /** Appends one entry; resolves once Redis has acknowledged it. */
  record(entry: AuditEntryInput, opts?: RecordOptions): Promise<AuditEntry>;
  /** Appends several entries of one or more cases, in order; coalesced like concurrent `record` calls. */
  recordMany(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /**
   * Signs a checkpoint of the case's tree now (if a signer is configured) and
   * stores it; returns the note, or undefined without a signer or entries.
   */
  checkpoint(caseId: string): Promise<string | undefined>;
  /** Waits for pending appends, signs a final checkpoint per case written to, stops the timer. */
  close(): Promise<void>;
  readonly redis: Redis;
  readonly signer: Signer | undefined;
}

export interface AuditLogDeps {
  redis: Redis;
  software?: Software;
  now?: () => number;
  /** Without one the chain and tree still grow; checkpoints start once a key is configured. */
  signer?: Signer;
  /** Sign a checkpoint after this many entries (default 1000). */
  checkpointEvery?: number;
  /** …and at least this often while entries arrive (default 60 s). */
  checkpointIntervalMs?: number;
  /** Most entries per script call (default 500). */
  maxBatch?: number;
  /** Told when a checkpoint could not be stored; appends go on regardless. */
  onCheckpointError?: (err: Error, caseId: string) => void;
}

// KEYS: stream, head, payloads, open intents.
// ARGV: expected head seq, n, new head hash, new head ts, new frontier,
//   n × (entry bytes, leaf hex, intent action o|c|-, intent ref),
//   preconditions (count, key, field, 1|0 …) for the first entry, writes (count, argc, argv …).
const APPEND_SCRIPT = `
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if seq ~= tonumber(ARGV[1]) then return {0, 'conflict'} end
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local topSeq = 0
if top[1] then
  local id = top[1][1]
  -- ioredis-mock hands ids to Lua as host objects; it cannot diverge this way, so trust its head.
  if type(id) == 'string' then topSeq = tonumber(string.match(id, '^0%-(%d+)$')) or -1 else topSeq = seq end
end
if topSeq ~= seq then return {0, 'diverged', topSeq} end
local n = tonumber(ARGV[2])
local closing = {}
for k = 1, n do
  local j = 6 + (k - 1) * 4
  if ARGV[j + 2] == 'c' then
    local ref = ARGV[j + 3]
    if closing[ref] or redis.call('HEXISTS', KEYS[4], ref) == 0 then return {0, 'closed', k} end
    closing[ref] = true
  end
end
local i = 6 + n * 4
local nPre = tonumber(ARGV[i]); i = i + 1
for p = 1, nPre do
  local key, field, want = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local found
  if field == '' then found = redis.call('EXISTS', key) == 1
  else found = redis.call('HEXISTS', key, field) == 1 end
  if (want == '1') ~= found then return {0, 'precondition', p} end
end
local payload = {}
for k = 1, n do
  local j = 6 + (k - 1) * 4
  local s = string.format('%d', seq + k)
  redis.call('XADD', KEYS[1], '0-' .. s, 'h', ARGV[j + 1])
  payload[#payload + 1] = s
  payload[#payload + 1] = ARGV[j]
  if ARGV[j + 2] == 'o' then redis.call('HSET', KEYS[4], s, ARGV[j + 3])
  elseif ARGV[j + 2] == 'c' then redis.call('HDEL', KEYS[4], ARGV[j + 3]) end
end
redis.call('HSET', KEYS[3], unpack(payload))
redis.call('HSET', KEYS[2], 'seq', string.format('%d', seq + n), 'hash', ARGV[3], 'ts', ARGV[4], 'frontier', ARGV[5])
local nWrites = tonumber(ARGV[i]); i = i + 1
for w = 1, nWrites do
  local argc = tonumber(ARGV[i]); i = i + 1
  local cmd = {}
  for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
  i = i + argc
  redis.call(unpack(cmd))
end
return {1, 'ok'}
`;

const MAX_ATTEMPTS = 50;

const INPUT_KEYS: ReadonlySet<string> = new Set([
  "case",
  "actor",
  "op",
  "phase",
  "target",
  "params",
  "result",
  "authority",
  "purpose",
  "justification",
  "recipients",
  "update_ids",
  "scenario",
  "intent_seq",
]);

interface Pending {
  input: AuditEntryInput;
  opts: RecordOptions;
  resolve(entry: AuditEntry): void;
  reject(err: Error): void;
  /** The intent this outcome closes was already closed (as unknown, after a presumed crash). */
  late?: boolean;
}

interface CaseState {
  queue: Pending[];
  flushing: boolean;
  drained: Promise<void>;
  onDrained?: () => void;
  /** Our cached view of the head; dropped whenever another writer may have moved it. */
  head?: StoredHead;
  /** The tree as of our own last append: the only state this process signs. */
  ours?: Frontier;
  signedSize: number;
  checkpointing: Promise<unknown>;
  authority?: string;
  purpose?: string;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { redis, signer } = deps;
  const software = deps.software ?? currentSoftware();
  const now = deps.now ?? Date.now;
  const every = deps.checkpointEvery ?? 1000;
  const maxBatch = deps.maxBatch ?? 500;
  const cases = new Map<string, CaseState>();
  let closed = false;

  const timer =
    signer && (deps.checkpointIntervalMs ?? 60_000) > 0
      ? setInterval(() => {
          for (const [caseId, st] of cases) {
            if (st.ours && st.ours.size > st.signedSize)
              scheduleCheckpoint(caseId, st, cloneFrontier(st.ours));
          }
        }, deps.checkpointIntervalMs ?? 60_000)
      : undefined;
  timer?.unref();

  function stateOf(caseId: string): CaseState {
    let st = cases.get(caseId);
    if (!st) {
      st = {
        queue: [],
        flushing: false,
        drained: Promise.resolve(),
        signedSize: 0,
        checkpointing: Promise.resolve(),
      };
      cases.set(caseId, st);
    }
    return st;
  }

  function scheduleCheckpoint(
    caseId: string,
    st: CaseState,
    tree: Frontier,
  ): Promise<string | undefined> {
    if (!signer || tree.size === 0) return Promise.resolve(undefined);
    st.signedSize = Math.max(st.signedSize, tree.size);
    const note = signCheckpoint(signer, checkpointOrigin(caseId), tree.size, frontierRoot(tree));
    const stored = storeCheckpoint(redis, caseId, tree.size, note).then(
      () => note,
      (err: Error) => {
        deps.onCheckpointError?.(err, caseId);
        return undefined;
      },
    );
    st.checkpointing = Promise.all([st.checkpointing, stored]);
    return stored;
  }

  async function caseDefaults(caseId: string, st: CaseState): Promise<void> {
    if (st.authority !== undefined) return;
    const record = await getCase(redis, caseId);
    if (record) {
      st.authority = record.authority;
      st.purpose = record.purpose;
    }
  }

  // Keys in RFC 8785 order, so canonicalisation can serialise the object as it is.
  const sortedSoftware = { commit: software.commit, version: software.version };

  function build(p: Pending, st: CaseState, seq: number, prev: string, ts: string): AuditEntry {
    const i = p.input;
    const entry: AuditEntry = {
      actor: i.actor,
      authority: i.authority ?? st.authority ?? "",
      case: i.case,
      intent_seq: i.intent_seq,
      justification: i.justification,
      op: i.op,
      params: i.params,
      phase: i.phase,
      prev,
      purpose: i.purpose ?? st.purpose ?? "",
      recipients: i.recipients,
      result: i.result,
      scenario: i.scenario,
      seq,
      software: sortedSoftware,
      target: i.target,
      ts,
      update_ids: i.update_ids,
    };
    for (const key of Object.keys(entry) as (keyof AuditEntry)[]) {
      if (entry[key] === undefined) delete entry[key];
    }
    if (p.late) {
      // The intent was closed as "unknown" (its writer was presumed dead); this
      // report still belongs in the log, as information rather than a second outcome.
      entry.phase = "info";
      entry.params = { ...entry.params, late_outcome: true };
    }
    return entry;
  }

  function validate(p: Pending, st: CaseState): Error | undefined {
    const { input } = p;
    if ((input.op === "consult" || input.op === "disclose") && !input.justification?.trim()) {
      return new RecordRefusedError(
        `${input.op} needs a justification: say why the data is looked at or handed over`,
      );
    }
    if (input.op === "disclose" && !input.recipients?.length) {
      return new RecordRefusedError(
        "disclose needs at least one recipient: say who receives the data",
      );
    }
    const unknown = Object.keys(input).filter((k) => !INPUT_KEYS.has(k));
    if (unknown.length > 0) {
      return new Error(
        `audit entry for ${input.op} has unknown fields ${unknown.join(", ")}; this is a bug in the caller`,
      );
    }
    const probe = build(
      p,
      st,
      Number.MAX_SAFE_INTEGER,
      GENESIS_PREV,
      new Date(now()).toISOString(),
    );
    const parsed = auditEntrySchema.safeParse(probe);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return new Error(
        `audit entry for ${input.op} is malformed at ${issue?.path.join(".") || "top level"}: ${issue?.message}; this is a bug in the caller`,
      );
    }
    return undefined;
  }

  async function appendBatch(caseId: string, st: CaseState, batch: Pending[]): Promise<void> {
    await caseDefaults(caseId, st);
    let live = batch.filter((p) => {
      const problem = validate(p, st);
      if (problem) p.reject(problem);
      return !problem;
    });
    for (let attempt = 0; attempt < MAX_ATTEMPTS && live.length > 0; attempt++) {
      st.head ??= await readHead(redis, caseId);
      const head = st.head;
      const tree = cloneFrontier(head.frontier);
      const ts = new Date(now()).toISOString();
      const entries: AuditEntry[] = [];
      const argv: (string | number)[] = [];
      let prev = head.hash;
      for (const [k, p] of live.entries()) {
        const entry = build(p, st, head.seq + k + 1, prev, ts);
        const bytes = canonicalBytes(entry);
        const leaf = leafHash(bytes);
        appendLeaf(tree, leaf);
        prev = leaf.toString("hex");
        entries.push(entry);
        if (entry.phase === "intent") argv.push(bytes, prev, "o", entry.op);
        else if (entry.phase === "outcome") argv.push(bytes, prev, "c", String(entry.intent_seq));
        else argv.push(bytes, prev, "-", "");
      }
      const first = live[0] as Pending;
      const pre = first.opts.preconditions ?? [];
      argv.push(pre.length);
      for (const c of pre) argv.push(c.key, c.field ?? "", c.exists ? "1" : "0");
      const writes = live.flatMap((p, k) => {
        const w = p.opts.writes;
        return typeof w === "function" ? [...w(entries[k] as AuditEntry)] : [...(w ?? [])];
      });
      argv.push(writes.length);
      for (const w of writes) argv.push(w.length, ...w);
      const reply = (await redis.eval(
        APPEND_SCRIPT,
        4,
        auditKeys.stream(caseId),
        auditKeys.head(caseId),
        auditKeys.payloads(caseId),
        auditKeys.openIntents(caseId),
        head.seq,
        live.length,
        prev,
        ts,
        encodeFrontier(tree),
        ...argv,
      )) as [number, string, number?];
      if (reply[0] === 1) {
        st.head = { seq: head.seq + live.length, hash: prev, ts, frontier: tree };
        st.ours = tree;
        live.forEach((p, k) => {
          p.resolve(entries[k] as AuditEntry);
        });
        if (signer && tree.size - st.signedSize >= every)
          scheduleCheckpoint(caseId, st, cloneFrontier(tree));
        return;
      }
      const why = reply[1];
      if (why === "conflict") {
        st.head = undefined;
      } else if (why === "precondition") {
        const failed = pre[(reply[2] ?? 1) - 1];
        first.reject(new RecordRefusedError(failed?.message ?? "a precondition did not hold"));
        live = live.slice(1);
      } else if (why === "closed") {
        const late = live[(reply[2] ?? 1) - 1];
        if (late) late.late = true;
      } else if (why === "diverged") {
        throw new AuditUnavailableError(
          `the audit log of case ${caseId} is damaged: its head says seq ${head.seq} but the stream ends at ${reply[2]}; run \`warden audit verify --case ${caseId}\` and call the case's auditor`,
        );
      } else {
        throw new Error(`unexpected reply from the append script: ${String(why)}`);
      }
    }
    if (live.length > 0) {
      throw new AuditUnavailableError(
        `could not append to the audit log of case ${caseId}: too much contention from other writers; retry the action`,
      );
    }
  }

  async function flush(caseId: string, st: CaseState): Promise<void> {
    while (st.queue.length > 0) {
      // An entry with preconditions only goes first in its batch: they are checked before any write.
      let size = 1;
      while (
        size < st.queue.length &&
        size < maxBatch &&
        !st.queue[size]?.opts.preconditions?.length
      )
        size++;
      const batch = st.queue.splice(0, size);
      try {
        await appendBatch(caseId, st, batch);
      } catch (err) {
        st.head = undefined;
        const failure =
          err instanceof AuditUnavailableError
            ? err
            : new AuditUnavailableError(
                `could not write to the audit log of case ${caseId} (${(err as Error).message}); the action was not performed`,
              );
        for (const p of batch) p.reject(failure);
      }
    }
    st.flushing = false;
    st.onDrained?.();
  }

  function record(input: AuditEntryInput, opts: RecordOptions = {}): Promise<AuditEntry> {
    if (closed)
      return Promise.reject(
        new AuditUnavailableError("the audit log is closed: Warden is shutting down"),
      );
    const st = stateOf(input.case);
    const promise = new Promise<AuditEntry>((resolve, reject) => {
      st.queue.push({ input, opts, resolve, reject });
    });
    if (!st.flushing) {
      st.flushing = true;
      st.drained = new Promise<void>((resolve) => {
        st.onDrained = resolve;
      });
      queueMicrotask(() => {
        void flush(input.case, st);
      });
    }
    return promise;
  }

  return {
    redis,
    signer,
    record,
    recordMany: (entries) => Promise.all(entries.map((e) => record(e))),
    async checkpoint(caseId) {
      const st = stateOf(caseId);
      await st.drained;
      const tree = st.ours ?? (await readHead(redis, caseId)).frontier;
      const note = await scheduleCheckpoint(caseId, st, cloneFrontier(tree));
      await st.checkpointing;
      return note;
    },
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all([...cases.values()].map((st) => st.drained));
      closed = true;
      for (const [caseId, st] of cases) {
        if (st.ours && st.ours.size > st.signedSize)
          scheduleCheckpoint(caseId, st, cloneFrontier(st.ours));
      }
      await Promise.all([...cases.values()].map((st) => st.checkpointing));
    },
  };
}

/** Stores a signed note; a checkpoint for an equal or larger size stored by another writer wins. */
async function storeCheckpoint(
  redis: Redis,
  caseId: string,
  size: number,
  note: string,
): Promise<void> {
  try {
    await redis.xadd(auditKeys.checkpoints(caseId), `0-${size}`, "n", note);
  } catch (err) {
    if (/equal or smaller/i.test((err as Error).message)) return;
    throw err;
  }
}
