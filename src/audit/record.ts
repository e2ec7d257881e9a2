import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { Redis } from "ioredis";
import type { Precondition, RedisWrite } from "../store/cases.ts";
import { getCase } from "../store/cases.ts";
import { keys } from "../store/keys.ts";
import { type AuditEntry, type AuditEntryInput, GENESIS_PREV } from "./entry.ts";
import { currentSoftware, type Software } from "./software.ts";

/**
 * Appends to a case's audit log. The entry and any state change it explains are
 * written by one Lua script, so Redis applies both or neither, and the script
 * refuses to append unless the log's head is still the one the entry's `prev`
 * names: two processes writing the same case keep one chain.
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
  /** State changes applied in the same atomic step as the entry. */
  writes?: readonly RedisWrite[];
  /** Checked atomically first; if one fails, nothing is written and `RecordRefusedError` is thrown. */
  preconditions?: readonly Precondition[];
}

export interface AuditLog {
  record(entry: AuditEntryInput, opts?: RecordOptions): Promise<AuditEntry>;
}

export interface AuditLogDeps {
  redis: Redis;
  software?: Software;
  now?: () => number;
}

// KEYS[1] stream, KEYS[2] head. ARGV: expected seq, new seq, entry bytes, leaf hash, ts,
// then preconditions as (count, key, field, exists, index …), then writes as (count, argc, argv …).
const APPEND_SCRIPT = `
local headSeq = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if headSeq ~= tonumber(ARGV[1]) then return {0, 'conflict'} end
local i = 6
local nPre = tonumber(ARGV[i]); i = i + 1
for p = 1, nPre do
  local key, field, want = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local found
  if field == '' then found = redis.call('EXISTS', key) == 1
  else found = redis.call('HEXISTS', key, field) == 1 end
  if (want == '1') ~= found then return {0, 'precondition', p} end
end
local nWrites = tonumber(ARGV[i]); i = i + 1
local writes = {}
for w = 1, nWrites do
  local argc = tonumber(ARGV[i]); i = i + 1
  local cmd = {}
  for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
  i = i + argc
  writes[w] = cmd
end
redis.call('XADD', KEYS[1], '0-' .. ARGV[2], 'e', ARGV[3], 'h', ARGV[4])
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'hash', ARGV[4], 'ts', ARGV[5])
for w = 1, nWrites do redis.call(unpack(writes[w])) end
return {1, 'ok'}
`;

export function leafHash(entryBytes: string): string {
  return createHash("sha256")
    .update(Buffer.from([0]))
    .update(entryBytes, "utf8")
    .digest("hex");
}

export function canonicalBytes(entry: AuditEntry): string {
  const bytes = canonicalize(entry);
  if (bytes === undefined) throw new Error("audit entry could not be canonicalised");
  return bytes;
}

interface Head {
  seq: number;
  hash: string;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { redis } = deps;
  const software = deps.software ?? currentSoftware();
  const now = deps.now ?? Date.now;
  // Appends to one case are serialised in-process so they do not race each other for the head.
  const queues = new Map<string, Promise<unknown>>();

  async function readHead(caseId: string): Promise<Head> {
    const [seq, hash] = await redis.hmget(keys.auditHead(caseId), "seq", "hash");
    return { seq: Number(seq ?? 0), hash: hash ?? GENESIS_PREV };
  }

  async function append(input: AuditEntryInput, opts: RecordOptions): Promise<AuditEntry> {
    checkLawful(input);
    let { authority, purpose } = input;
    if (authority === undefined || purpose === undefined) {
      const record = await getCase(redis, input.case);
      authority ??= record?.authority ?? "";
      purpose ??= record?.purpose ?? "";
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const head = await readHead(input.case);
      const entry: AuditEntry = {
        ...input,
        seq: head.seq + 1,
        ts: new Date(now()).toISOString(),
        authority,
        purpose,
        software,
        prev: head.hash,
      };
      const bytes = canonicalBytes(entry);
      const hash = leafHash(bytes);
      const argv: (string | number)[] = [head.seq, entry.seq, bytes, hash, entry.ts];
      const pre = opts.preconditions ?? [];
      argv.push(pre.length);
      for (const p of pre) argv.push(p.key, p.field ?? "", p.exists ? "1" : "0");
      const writes = opts.writes ?? [];
      argv.push(writes.length);
      for (const w of writes) argv.push(w.length, ...w);
      const reply = (await redis.eval(
        APPEND_SCRIPT,
        2,
        keys.audit(input.case),
        keys.auditHead(input.case),
        ...argv,
      )) as [number, string, number?];
      if (reply[0] === 1) return entry;
      if (reply[1] === "precondition") {
        const failed = pre[(reply[2] ?? 1) - 1];
        throw new RecordRefusedError(failed?.message ?? "a precondition did not hold");
      }
      // Another writer appended first: read the new head and try again.
    }
    throw new AuditUnavailableError(
      `could not append to the audit log of case ${input.case}: too much contention; retry the action`,
    );
  }

  return {
    record(input, opts = {}) {
      const previous = queues.get(input.case) ?? Promise.resolve();
      const next = previous
        .catch(() => undefined)
        .then(() =>
          append(input, opts).catch((err: unknown) => {
            if (err instanceof RecordRefusedError || err instanceof AuditUnavailableError)
              throw err;
            throw new AuditUnavailableError(
              `could not write to the audit log of case ${input.case} (${(err as Error).message}); the action was not performed`,
            );
          }),
        );
      queues.set(input.case, next);
      const forget = () => {
        if (queues.get(input.case) === next) queues.delete(input.case);
      };
      next.then(forget, forget);
      return next;
    },
  };
}

/** Article 25: consultation and disclosure must say why, and disclosure to whom. */
function checkLawful(input: AuditEntryInput): void {
  if ((input.op === "consult" || input.op === "disclose") && !input.justification?.trim()) {
    throw new RecordRefusedError(
      `${input.op} needs a justification: say why the data is looked at or handed over`,
    );
  }
  if (input.op === "disclose" && !input.recipients?.length) {
    throw new RecordRefusedError(
      "disclose needs at least one recipient: say who receives the data",
    );
  }
}
