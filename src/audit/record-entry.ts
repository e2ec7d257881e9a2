import {
  type AuditEntry,
  type AuditEntryInput,
  auditEntrySchema,
  GENESIS_PREV,
  isAuditEntry,
} from "./entry.ts";
import { RecordRefusedError } from "./record-errors.ts";
import type { Pending } from "./record-queue.ts";
import type { Software } from "./software.ts";

/**
 * A caller's input turned into the entry as it will be stored, and the checks
 * that refuse an input before it takes a place in the chain: an entry that
 * verify would refuse must never be appended.
 */

/** Authority and purpose an entry takes from its case when the caller leaves them out. */
export interface CaseDefaults {
  authority?: string;
  purpose?: string;
}

/** `Software` with its keys in RFC 8785 order, so canonicalisation can serialise it as it is. */
export type SortedSoftware = Readonly<Software>;

export function sortedSoftware(software: Software): SortedSoftware {
  return { commit: software.commit, version: software.version };
}

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

/**
 * The entry as it will be stored. Fields are set in RFC 8785 order and absent
 * ones are never set (rather than deleted), so the object keeps a fast shape
 * and canonicalisation can serialise it as it is.
 */
export function buildEntry(
  p: Pending,
  defaults: CaseDefaults,
  software: SortedSoftware,
  seq: number,
  prev: string,
  ts: string,
): AuditEntry {
  const i = p.input;
  const e: Record<string, unknown> = {};
  e.actor = i.actor;
  e.authority = i.authority ?? defaults.authority ?? "";
  e.case = i.case;
  if (i.intent_seq !== undefined) e.intent_seq = i.intent_seq;
  if (i.justification !== undefined) e.justification = i.justification;
  e.op = i.op;
  if (p.late) {
    // The intent was closed as "unknown" (its writer was presumed dead); this
    // report still belongs in the log, as information rather than a second outcome.
    e.params = { ...i.params, late_outcome: true };
    e.phase = "info";
  } else {
    if (i.params !== undefined) e.params = i.params;
    e.phase = i.phase;
  }
  e.prev = prev;
  e.purpose = i.purpose ?? defaults.purpose ?? "";
  if (i.recipients !== undefined) e.recipients = i.recipients;
  if (i.result !== undefined) e.result = i.result;
  if (i.scenario !== undefined) e.scenario = i.scenario;
  e.seq = seq;
  e.software = software;
  if (i.target !== undefined) e.target = i.target;
  e.ts = ts;
  if (i.update_ids !== undefined) e.update_ids = i.update_ids;
  return e as AuditEntry;
}

/** What can be refused from the caller's input alone, before the entry is placed. */
export function checkInput(input: AuditEntryInput): Error | undefined {
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
  for (const k in input) {
    if (!INPUT_KEYS.has(k)) {
      const unknown = Object.keys(input).filter((key) => !INPUT_KEYS.has(key));
      return new Error(
        `audit entry for ${input.op} has unknown fields ${unknown.join(", ")}; this is a bug in the caller`,
      );
    }
  }
  return undefined;
}

/**
 * The entry as built, checked against the schema verify holds it to;
 * undefined if it passes. Where it lands is not the caller's to get right (a
 * stale head is found out by the script, and the entry is built again), so
 * an entry refused only for its place is checked again as if it came last.
 */
export function checkEntry(
  entry: AuditEntry,
  p: Pending,
  defaults: CaseDefaults,
  software: SortedSoftware,
): Error | undefined {
  const { ts } = entry;
  // The compiled schema answers yes or no; only a refusal pays for zod's messages.
  if (isAuditEntry(entry)) return undefined;
  const probe = buildEntry(p, defaults, software, Number.MAX_SAFE_INTEGER, GENESIS_PREV, ts);
  if (isAuditEntry(probe)) return undefined;
  const issue = auditEntrySchema.safeParse(probe).error?.issues[0];
  return new Error(
    `audit entry for ${p.input.op} is malformed at ${issue?.path.join(".") || "top level"}: ${issue?.message ?? "refused by the schema"}; this is a bug in the caller`,
  );
}
