import { join } from "node:path";
import type { Redis } from "ioredis";
import { exportBundle } from "../../audit/bundle.ts";
import { type Signer, verifierOf } from "../../audit/checkpoint.ts";
import type { AuditEntry } from "../../audit/entry.ts";
import { entriesSince } from "../../audit/recent.ts";
import type { AuditLog } from "../../audit/record.ts";
import { verifyCaseLog } from "../../audit/verify-case.ts";
import type { RunState } from "../../scenario/runtime/run-state.ts";

/**
 * The end of a rehearsal, as an auditor would meet it: the case's audit log
 * exported as a bundle and verified against the rehearsal's signing key;
 * and the verdict — the run finished, no step failed, no admin right was
 * missing, the log is intact — with the failures and missing rights read
 * from the log, so they are what an auditor would find there.
 */
export interface RehearsalResult {
  ok: boolean;
  caseId: string;
  scenarioId: string;
  runStatus: RunState["status"] | "not started";
  verified: boolean;
  entries: number;
  /** Steps or actions of the scenario that failed, one line each. */
  failures: string[];
  missingRights: string[];
  exportDir?: string;
  exportFiles: string[];
}

/** Exports and verifies the log (closing the audit log: nothing is recorded after this). */
export async function concludeRehearsal(
  records: { redis: Redis; audit: AuditLog; signer: Signer },
  what: { caseId: string; scenarioId: string; dataDir: string; run: RunState | undefined },
): Promise<RehearsalResult> {
  const { redis, audit } = records;
  const { caseId, run } = what;
  const all = await entriesSince(redis, caseId, 0);
  const failures = failuresIn(all);
  const missingRights = missingRightsIn(all);
  const exportDir = join(what.dataDir, "rehearsals", caseId);
  const exported = await exportBundle(audit, {
    caseId,
    out: exportDir,
    justification: "rehearsal: the audit trail of a scenario rehearsal, for review",
    recipients: ["scenario authors"],
    actor: { kind: "cli", name: "rehearsal" },
    clock: "simulated",
  });
  await audit.close();
  const report = await verifyCaseLog(redis, caseId, {
    verifiers: [verifierOf(records.signer)],
  });
  const ok =
    report.ok && run?.status === "finished" && failures.length === 0 && missingRights.length === 0;
  return {
    ok,
    caseId,
    scenarioId: what.scenarioId,
    runStatus: run?.status ?? "not started",
    verified: report.ok,
    entries: report.entries,
    failures,
    missingRights,
    exportDir,
    exportFiles: exported.files.map((f) => join(exportDir, f)),
    ...(report.failure
      ? { verifyFailure: `${report.failure.seq}: ${report.failure.message}` }
      : {}),
  };
}

/** Scenario steps and actions that failed: `#seq op ‹step›: why`. */
export function failuresIn(entries: readonly AuditEntry[]): string[] {
  return entries
    .filter(
      (e) =>
        e.scenario &&
        ((e.phase === "outcome" && e.result?.ok !== true) || e.op === "scenario.fail"),
    )
    .map(
      (e) =>
        `#${e.seq} ${e.op} ‹${e.scenario?.step}›: ${e.op === "scenario.fail" ? String(e.params?.reason) : ((e.result as { description?: string } | undefined)?.description ?? "unknown")}`,
    );
}

/** Admin rights the bot lacked: those a refused start listed, and those a failed step named. */
export function missingRightsIn(entries: readonly AuditEntry[]): string[] {
  return [
    ...new Set(
      entries.flatMap((e) =>
        e.op === "scenario.start" && e.phase === "refused"
          ? ((e.params?.missing as string[] | undefined) ?? [])
          : e.op === "scenario.fail" && e.params?.missing_right
            ? [String(e.params.missing_right)]
            : [],
      ),
    ),
  ];
}
