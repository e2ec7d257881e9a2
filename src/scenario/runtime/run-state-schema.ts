import { z } from "zod";
import type { Actor } from "../../audit/entry.ts";
import { auditEntrySchema } from "../../audit/entry.ts";
import { scenarioKeys } from "./keys.ts";

/**
 * How a run's Redis hash is read, checked field by field on every read.
 *
 * A run lives for days and outlives deploys: a Warden that read a hash
 * written in another layout (a field renamed, a number stored differently)
 * would act on a run it misread, in the middle of a takeover. So each run
 * carries the version of the layout it was written in, `stateVersion`, set
 * once with the new run, and a reader refuses every hash it cannot read
 * exactly: one of a version it does not know (written by a newer Warden) and
 * one with a field out of shape (corrupted), each with an error naming the
 * run and its case. A refused run is left as it is: no step, timer or
 * trigger acts on it, and the tick logs the refusal each time it comes by.
 *
 * Version 1 is the layout runs have had from the start. Runs started before
 * versions existed have no `stateVersion` and are that same layout, so they
 * are read as version 1: their migration is the absence of any change.
 * Nothing is written back, and they keep no version to their end; a later
 * reader still knows a hash without one as version 1.
 *
 * Changing the layout means version 2: a schema for it, the version 1 schema
 * kept with a function that lifts its output to today's `RunState`, and a
 * way for writes to a version 1 run not to mix layouts in one hash (`setRun`
 * writes today's), such as rewriting the whole hash, with its new version,
 * in the same atomic step as its next audit entry.
 */

export const RUN_STATE_VERSION = 1;

export const RUN_STATUSES = ["running", "paused", "finished", "aborted", "failed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run's state as this Warden reads and writes it (today's layout). */
export interface RunState {
  id: string;
  caseId: string;
  scenario: string;
  hash: string;
  title: string;
  chatId: number;
  alias: string;
  /** The group's title when the run started, for templates: after a lockdown the title is the police's. */
  groupTitle?: string;
  status: RunStatus;
  /** Index of the current phase, and of the current step in it. */
  phase: number;
  step: number;
  /** Raised by each retry after a failure, so a retried step gets a fresh idempotency key. */
  attempt: number;
  startedAt: number;
  startedBy: Actor;
  /** A wait, until or approve step's deadline (ms), and which step (`<phase>.<step>`) it belongs to. */
  wakeAt?: number;
  wakeStep?: string;
  approvalId?: string;
  approvalStep?: string;
  approvalResult?: "granted" | "rejected" | "expired";
  pausedAt?: number;
  reason?: string;
  endedAt?: number;
}

/** The hash field holding the layout version; not part of `RunState`, which is always today's. */
export const VERSION_FIELD = "stateVersion";

/** A run whose stored state this Warden will not act on. */
export class RunStateError extends Error {
  override name = "RunStateError";
  constructor(
    readonly caseId: string,
    readonly runId: string,
    /** The layout version the hash claims (1 for one without a version); undefined when unreadable. */
    readonly version: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

const WHOLE = /^-?\d+$/;
const COUNT = /^\d+$/;
/** What `String(n)` gives for a finite number: times may be fractional on a simulated clock. */
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/;

const count = z.string().regex(COUNT, "expected a whole number, 0 or more").transform(Number);
const telegramId = z
  .string()
  .regex(WHOLE, "expected a whole number")
  .transform(Number)
  .pipe(z.number().refine(Number.isSafeInteger, "not a safe integer"));
const ms = z.string().regex(NUMBER, "expected a time in milliseconds").transform(Number);
/** `<phase>.<step>`, as the wait and approve steps write it. */
const where = z.string().regex(/^\d+\.\d+$/, "expected <phase>.<step>");

function json<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: "custom", message: "expected JSON", input: text });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** Version 1, field by field as `setRun` writes it; `satisfies` keeps it to exactly `RunState`'s fields. */
const v1Fields = {
  id: z.string().min(1),
  caseId: z.string().min(1),
  scenario: z.string().min(1),
  hash: z.string().min(1),
  title: z.string(),
  chatId: telegramId,
  alias: z.string().min(1),
  groupTitle: z.string().optional(),
  status: z.enum(RUN_STATUSES),
  phase: count,
  step: count,
  attempt: count,
  startedAt: ms,
  // The audit log's own actor schema: the run acts in this actor's name.
  startedBy: json(auditEntrySchema.shape.actor),
  wakeAt: ms.optional(),
  wakeStep: where.optional(),
  approvalId: z.string().optional(),
  approvalStep: where.optional(),
  approvalResult: z.enum(["granted", "rejected", "expired"]).optional(),
  pausedAt: ms.optional(),
  reason: z.string().optional(),
  endedAt: ms.optional(),
} satisfies Record<keyof RunState, z.ZodType>;

/** Unknown fields are refused too: a field renamed without a new version would otherwise be dropped unseen. */
const v1 = z.strictObject(v1Fields);

/** Each version this Warden reads, lifted to today's `RunState`. */
const readers: Record<number, (fields: Record<string, string>) => z.ZodSafeParseResult<RunState>> =
  {
    1: (fields) => v1.safeParse(fields, { reportInput: true }),
  };

/** A run's hash as read from Redis (non-empty), checked and brought to today's layout; throws `RunStateError`. */
export function parseRunState(
  caseId: string,
  runId: string,
  hash: Record<string, string>,
): RunState {
  const { [VERSION_FIELD]: stored, ...fields } = hash;
  // No version: written before versions, in the layout of version 1.
  const version = stored === undefined ? 1 : COUNT.test(stored) ? Number(stored) : undefined;
  if (version !== undefined && version > RUN_STATE_VERSION)
    throw new RunStateError(
      caseId,
      runId,
      version,
      `run ${runId} of case ${caseId} was written by a newer Warden (run state version ${version}; this one reads up to ${RUN_STATE_VERSION}): upgrade Warden to the release that started the run, or a later one, before going on with it; this Warden leaves the run alone`,
    );
  const read = version === undefined ? undefined : readers[version];
  if (!read)
    throw corrupted(caseId, runId, version, [`${VERSION_FIELD}: no such version (is "${stored}")`]);
  const parsed = read(fields);
  if (!parsed.success) throw corrupted(caseId, runId, version, parsed.error.issues.map(describe));
  // A hash copied or moved to another run's key would act as that run.
  const run = parsed.data;
  const misplaced = [
    ...(run.id !== runId ? [`id: not the run's id (is "${run.id}")`] : []),
    ...(run.caseId !== caseId ? [`caseId: not the run's case (is "${run.caseId}")`] : []),
  ];
  if (misplaced.length) throw corrupted(caseId, runId, version, misplaced);
  return run;
}

/** A hash this Warden's schema for its version refuses; `version` undefined when that is what is unreadable. */
function corrupted(
  caseId: string,
  runId: string,
  version: number | undefined,
  problems: string[],
): RunStateError {
  return new RunStateError(
    caseId,
    runId,
    version,
    `run ${runId} of case ${caseId} has a damaged state${version === undefined ? "" : ` (run state version ${version})`}: ${problems.join("; ")}. This Warden leaves the run alone rather than guess: repair the hash ${scenarioKeys.run(caseId, runId)} from the run's entries in the audit log`,
  );
}

/** One problem as `field: what is wrong (is "value")`. */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.join(", ")}`;
  const field = issue.path.join(".") || "(hash)";
  if (issue.code === "invalid_type" && issue.input === undefined) return `${field}: missing`;
  const input = typeof issue.input === "string" ? ` (is ${JSON.stringify(issue.input)})` : "";
  return `${field}: ${issue.message}${input}`;
}
