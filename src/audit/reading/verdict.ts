import type { VerifyReport } from "../verify.ts";

/**
 * The verdict in words, as an auditor (a lawyer, not a cryptographer) reads
 * it first: what was checked and up to which entry, and, as plainly, what
 * was not. report.html and the console's auditor view both show it, from
 * the same function, so the two never tell a bundle's story differently.
 */
/** One file of a bundle as `verify --bundle` checked it (its `FileCheck`, restated to keep imports one way). */
export interface FileCheck {
  file: string;
  checked: boolean;
  detail: string;
}

export interface Verdict {
  status: "intact" | "warnings" | "failed";
  /** One sentence: the answer. A failure says where and why. */
  headline: string;
  /** What was checked and held, one sentence each. */
  verified: string[];
  /** What was not checked, or not covered, one sentence each. */
  notVerified: string[];
  /** Warnings that need a look, one sentence each. */
  warnings: string[];
}

export interface VerdictInput {
  report: VerifyReport;
  /** Whose key the checkpoints were checked against, in words (e.g. "the key the export recorded, warden+ab12…"). */
  keyWords: string;
  /** Whether that key came from the auditor rather than from inside the bundle. */
  authenticated?: boolean;
  /** The files of a bundle as `verify --bundle` checked them; absent when the verdict was computed at export. */
  files?: readonly FileCheck[];
  /** Where the verdict was computed: at export (report.html), or just now on the auditor's machine. */
  when: "export" | "now";
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function verdictOf(input: VerdictInput): Verdict {
  const { report } = input;
  const verified: string[] = [];
  const notVerified: string[] = [];
  const warnings = report.warnings.map(
    (w) => `${w.seq !== undefined ? `entry ${w.seq}: ` : ""}${w.message}`,
  );
  const checkedUpTo = report.failure?.seq !== undefined ? report.failure.seq - 1 : report.entries;

  if (!report.ok) {
    const at = report.failure?.seq !== undefined ? ` at entry ${report.failure.seq}` : "";
    const headline = `NOT VERIFIED: the log fails${at}: ${report.failure?.message ?? "unknown reason"}. Nothing from that point on can be trusted.`;
    if (checkedUpTo > 0)
      verified.push(
        `Entries 1 to ${checkedUpTo} were read before the failure; they chain correctly, but a failed bundle as a whole cannot be relied on.`,
      );
    notVerified.push("Everything after the failure was not checked.");
    return { status: "failed", headline, verified, notVerified, warnings };
  }

  verified.push(
    `The chain: all ${plural(report.entries, "entry", "entries")} are in order, each holding the hash of the one before it${report.erased ? ` (${plural(report.erased, "payload")} erased under the retention rules, their hashes kept)` : ""}.`,
  );
  verified.push(
    `The tree: the entries give the Merkle root ${report.root.slice(0, 16)}…, and every signed checkpoint's root matches the entries it covers.`,
  );
  if (report.signedSize > 0) {
    verified.push(
      `The signatures: checkpoints covering entries 1 to ${report.signedSize} are signed by ${input.keyWords}.`,
    );
    if (input.authenticated === false)
      notVerified.push(
        "Whose key that is: it was shipped inside the bundle, so the signatures prove only that the bundle is self-consistent. Verify with the key you got from the case officer (warden audit verify --bundle DIR --pubkey KEY).",
      );
    if (report.signedSize < report.entries)
      notVerified.push(
        `Entries ${report.signedSize + 1} to ${report.entries} are not covered by any signed checkpoint.`,
      );
  } else {
    notVerified.push(
      `The signatures: no checkpoint signature could be checked (${input.keyWords}), so anyone who could edit the log could have rewritten it.`,
    );
  }
  if (report.witnesses?.length) {
    for (const w of report.witnesses)
      (w.size > 0 ? verified : notVerified).push(
        w.size > 0
          ? `Witness ${w.name} cosigned the log up to entry ${w.size}${w.size < report.entries ? `; entries ${w.size + 1} to ${report.entries} rest on the operator's key alone` : ""}.`
          : `Witness ${w.name} cosigned nothing in this log.`,
      );
  } else {
    notVerified.push(
      "Witness cosignatures: not checked (give a witness key to `warden audit verify --witness-pubkey` or to the console); without them the log is only as trustworthy as the operator's signing key.",
    );
  }
  if (input.files) {
    for (const f of input.files)
      (f.checked ? verified : notVerified).push(`${f.file}: ${f.detail}.`);
  } else if (input.when === "export") {
    notVerified.push(
      "The bundle's files as you received them: this verdict was computed when the bundle was exported. `warden audit verify --bundle DIR --pubkey KEY` (or the console) checks the files you hold and renders this report again to compare it.",
    );
  }
  const status = warnings.length > 0 ? "warnings" : "intact";
  const headline =
    status === "intact"
      ? `VERIFIED: all ${plural(report.entries, "entry", "entries")} are intact${report.signedSize > 0 ? `, signed up to entry ${report.signedSize}` : " (but unsigned)"}.`
      : `VERIFIED WITH ${plural(warnings.length, "WARNING")}: all ${plural(report.entries, "entry", "entries")} are intact; read the warnings below.`;
  return { status, headline, verified, notVerified, warnings };
}
