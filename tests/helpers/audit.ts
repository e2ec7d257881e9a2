import { expect } from "vitest";
import type { AuditEntry } from "../../src/audit/entry.ts";
import { entriesSince } from "../../src/audit/recent.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import type { Redis } from "../../src/store/redis.ts";

/** Every entry of a case's log, oldest first. */
export async function auditEntries(redis: Redis, caseId: string): Promise<AuditEntry[]> {
  return entriesSince(redis, caseId, 0);
}

/** `warden audit verify` must pass: asserted with the report, so a failure says why. */
export async function expectLogVerifies(redis: Redis, caseId: string): Promise<void> {
  const report = await verifyCaseLog(redis, caseId);
  expect(report.failure, JSON.stringify(report.failure)).toBeUndefined();
  expect(report.ok).toBe(true);
}
