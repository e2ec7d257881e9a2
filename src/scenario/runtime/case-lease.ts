import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AuditEntry, AuditEntryInput } from "../../audit/entry.ts";
import {
  type AuditLog,
  AuditUnavailableError,
  type RecordOptions,
  RecordRefusedError,
} from "../../audit/record.ts";
import type { Precondition } from "../../store/cases.ts";
import { LEASE_RENEW_MS, type LeaseHandle, leaseHandle } from "../../store/lease.ts";
import { scenarioKeys } from "./keys.ts";
import type { CaseLeases, EngineDeps } from "./run-context.ts";

/**
 * Several processes on one Redis: the runs and timers of a case are moved on
 * by one process at a time, the holder of the case's scenario lease (a fenced
 * lease, src/store/lease.ts). Whichever process's tick finds a case's lease
 * free takes it, and renews it every second on a timer of its own — not in
 * the tick, so a step that waits a minute for a send window keeps its lease.
 * A process that dies stops renewing, and within the lease's 5 s another
 * process's tick takes the case over: its runs move on from where their state
 * in Redis says.
 *
 * Fencing: every entry the holder records for the case while moving its runs
 * (intents, steps, phases, timers; not outcomes, which report what already
 * happened) carries a precondition that the case's fence still holds the
 * holder's token. A holder that was frozen past its lease and wakes up
 * believing it still holds it has each such write refused
 * (`LeaseLostError`, an `AuditUnavailableError`: the engine leaves the step
 * where it is, for the new holder) — so no intent of it is logged, and no
 * Telegram call follows. Within a process, `run-lock.ts` still serialises
 * advances of one run.
 */

export class LeaseLostError extends AuditUnavailableError {
  override name = "LeaseLostError";
}

export function leaseLostMessage(caseId: string): string {
  return `this process no longer holds the scenario lease of case ${caseId}: another process moves its runs on`;
}

export function createCaseLeases(opts: {
  redis: Redis;
  holder: string;
  logger: Logger;
  ttlMs?: number;
}): CaseLeases {
  const handles = new Map<string, LeaseHandle>();
  /** When taking a case's lease was last tried and found held by another (performance.now()). */
  const tried = new Map<string, number>();
  const handleOf = (caseId: string): LeaseHandle => {
    let h = handles.get(caseId);
    if (!h) {
      h = leaseHandle({
        redis: opts.redis,
        keys: { lease: scenarioKeys.lease(caseId), fence: scenarioKeys.fence(caseId) },
        holder: opts.holder,
        ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
        onLost: (token, by) =>
          opts.logger.warn(
            { case: caseId, token, ...(by ? { holder: by } : {}) },
            "lost the scenario lease of a case: another process moves its runs on",
          ),
      });
      handles.set(caseId, h);
    }
    return h;
  };
  const timer = setInterval(() => {
    for (const [caseId, h] of handles) {
      if (h.held() === undefined && h.lastToken() === 0) continue;
      h.renew()
        .then((token) => {
          if (token === undefined) handles.delete(caseId);
        })
        .catch(() => undefined);
    }
  }, LEASE_RENEW_MS);
  timer.unref();
  return {
    async hold(caseId) {
      const h = handleOf(caseId);
      const token = h.held();
      if (token !== undefined) return token;
      const at = performance.now();
      if (at - (tried.get(caseId) ?? -Infinity) < LEASE_RENEW_MS) return undefined;
      const taken = await h.renew().catch(() => undefined);
      if (taken === undefined) {
        tried.set(caseId, at);
        return undefined;
      }
      tried.delete(caseId);
      opts.logger.info({ case: caseId, token: taken }, "took the scenario lease of a case");
      return taken;
    },
    held: () => [...handles].filter(([, h]) => h.held() !== undefined).map(([c]) => c),
    async release() {
      clearInterval(timer);
      await Promise.all(
        [...handles.values()].map((h) => (h.held() ? h.release().catch(() => undefined) : null)),
      );
      handles.clear();
    },
  };
}

const FENCED = Symbol("fenced case");

/**
 * The engine's deps for acting on a case's runs: as they are without leases
 * (one process, rehearsals, tests), with an audit log fenced by this process's
 * token while it holds the case's lease, or undefined while another process
 * holds it.
 */
export async function leasedDeps(
  deps: EngineDeps,
  caseId: string,
): Promise<EngineDeps | undefined> {
  if (!deps.leases) return deps;
  if ((deps as { [FENCED]?: string })[FENCED] === caseId) return deps;
  const token = await deps.leases.hold(caseId);
  if (token === undefined) return undefined;
  return Object.assign(
    { ...deps, audit: fencedAudit(deps.audit, caseId, token) },
    {
      [FENCED]: caseId,
    },
  );
}

/** `audit`, with every entry of `caseId` but outcomes refused once a newer token than `token` is granted. */
export function fencedAudit(audit: AuditLog, caseId: string, token: number): AuditLog {
  const message = leaseLostMessage(caseId);
  const fence: Precondition = {
    key: scenarioKeys.fence(caseId),
    exists: true,
    equals: String(token),
    message,
  };
  const record = (input: AuditEntryInput, opts?: RecordOptions): Promise<AuditEntry> => {
    if (input.case !== caseId || input.phase === "outcome") return audit.record(input, opts);
    // The fence first: a lost lease is what the caller must hear, whatever else would fail.
    const guarded: RecordOptions = {
      ...opts,
      preconditions: [fence, ...(opts?.preconditions ?? [])],
    };
    return audit.record(input, guarded).catch((err: unknown) => {
      if (err instanceof RecordRefusedError && err.message === message)
        throw new LeaseLostError(message);
      throw err;
    });
  };
  return {
    redis: audit.redis,
    signer: audit.signer,
    record,
    recordMany: (entries) => Promise.all(entries.map((e) => record(e))),
    checkpoint: (c) => audit.checkpoint(c),
    close: () => audit.close(),
  };
}
