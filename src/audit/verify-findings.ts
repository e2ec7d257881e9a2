/**
 * What a verification finds: the first failure, which stops it, and warnings,
 * which it collects and goes on. A failure is thrown (`fail`) from wherever it
 * is found and caught once, where the report is made: after one, everything
 * else is suspect.
 */

export interface Finding {
  /** The seq where the problem is, when it has one. */
  seq?: number;
  message: string;
}

/** Thrown by `fail`; carries the finding to the report. */
export class Failed extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

export function fail(seq: number | undefined, message: string): never {
  throw new Failed({ seq, message });
}

/** Warnings past this many are only counted, so that a report stays readable however many there are. */
const MAX_WARNINGS = 100;

export interface Warnings {
  list: Finding[];
  suppressed: number;
}

export function newWarnings(): Warnings {
  return { list: [], suppressed: 0 };
}

export function warn(warnings: Warnings, seq: number | undefined, message: string): void {
  if (warnings.list.length < MAX_WARNINGS) warnings.list.push({ seq, message });
  else warnings.suppressed++;
}

/** The list, closed with how many more there were. */
export function summariseWarnings(warnings: Warnings): void {
  if (warnings.suppressed > 0)
    warnings.list.push({ message: `… and ${warnings.suppressed} more warnings` });
}
