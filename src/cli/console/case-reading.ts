import { timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import { actorOf } from "../../actions/approvals.ts";
import type { Verifier } from "../../audit/checkpoint.ts";
import { verdictOf } from "../../audit/reading/verdict.ts";
import { entriesSince } from "../../audit/recent.ts";
import type { AuditLog } from "../../audit/record.ts";
import { verifyCaseLog } from "../../audit/verify-case.ts";
import { getCase, getRole } from "../../store/cases.ts";
import type { Reading } from "./bundle-reading.ts";

/**
 * A live case read in the console, read-only. It is a look at collected
 * data like `/who` or an export, so it is allowed only with the one-time
 * token `warden console` printed (whoever can reach the port is not enough),
 * only for a person holding a role in the case, and only with a
 * justification; and it is on the record as `consult` before anything is
 * read, like every other look.
 */

export class ConsultRefused extends Error {
  override name = "ConsultRefused";
  constructor(
    readonly status: 401 | 403 | 404 | 400,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `given` is the console's token, compared in constant time. */
export function tokenMatches(token: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const MIN_JUSTIFICATION = 8;

export async function readCase(
  store: { redis: Redis; audit: AuditLog; verifiers?: readonly Verifier[] },
  request: { caseId: string; userId: number; justification: string },
): Promise<Reading & { consultSeq: number }> {
  const { redis } = store;
  const record = await getCase(redis, request.caseId);
  if (!record)
    throw new ConsultRefused(404, `there is no case "${request.caseId}": see warden case list`);
  const grant = await getRole(redis, request.caseId, request.userId);
  if (!grant)
    throw new ConsultRefused(
      403,
      `user ${request.userId} holds no role in case ${request.caseId}: reading a case needs a role in it (warden operator add)`,
    );
  const justification = request.justification.trim();
  if (justification.length < MIN_JUSTIFICATION)
    throw new ConsultRefused(
      400,
      "reading a case is logged: say why you need it (at least a few words), e.g. quarterly oversight review",
    );
  // On the record before anything is read.
  const consult = await store.audit.record({
    case: request.caseId,
    actor: actorOf(grant),
    op: "consult",
    phase: "info",
    justification,
    params: { via: "console", what: "audit log" },
  });
  const report = await verifyCaseLog(redis, request.caseId, {
    ...(store.verifiers ? { verifiers: store.verifiers } : {}),
  });
  const entries = await entriesSince(redis, request.caseId, 0);
  return {
    entries,
    case: {
      id: record.id,
      title: record.title,
      authority: record.authority,
      purpose: record.purpose,
      retentionDays: record.retentionDays,
      status: record.status,
    },
    verdict: verdictOf({
      report,
      keyWords: store.verifiers?.length
        ? `the server's audit key (${store.verifiers[0]?.name})`
        : "no key: WARDEN_AUDIT_KEY is not set, so signatures were not checked",
      when: "now",
    }),
    consultSeq: consult.seq,
  };
}
