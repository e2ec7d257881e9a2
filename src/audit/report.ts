import { readFileSync } from "node:fs";
import { BROWSER_SHOW_INVISIBLE } from "../base/html.ts";
import type { AuditEntry } from "./entry.ts";
import { verdictOf } from "./reading/verdict.ts";
import type { Finding, VerifyReport } from "./verify.ts";

/**
 * report.html: one self-contained file an auditor opens offline. No network,
 * no external scripts or styles: the data sits in `<script type="application/json">`
 * tags (with `<` escaped so no string can close them) and is put on the page by
 * inline script through `textContent` only. Every string came from the log, and
 * much of it from the people under investigation: nothing is parsed as HTML,
 * and bidirectional-override characters are shown as visible marks.
 *
 * The file is a function of the bundle and nothing else (no clock, no host),
 * so `verify --bundle` can render it again from the verified entries and
 * compare it byte for byte with the one shipped. It is written in log order
 * (`reportHead`, one `reportEntry` per line, `reportTail`): the entries
 * first, then what only the end of the log tells (the case, as the export's
 * disclose entry recorded it, and the verdict), so neither the export nor the
 * verifier holds the log in memory to make it.
 */

export interface ReportCase {
  id: string;
  title?: string;
  authority?: string;
  purpose?: string;
  retentionDays?: number;
  status?: string;
}

export type ReportEntry = AuditEntry | { seq: number; erased_by: number };

/** What the report says besides the entries: all of it read from the bundle itself. */
export interface ReportMeta {
  case: ReportCase;
  verification: VerifyReport;
  /** What the signatures were checked against, in words. */
  verifiedWith: string;
  generatedAt: string;
  software: { version: string; commit: string };
  /** "simulated" for a rehearsal's log, whose times are its simulated clock. */
  clock?: "simulated";
}

export interface ReportInput extends ReportMeta {
  entries: readonly ReportEntry[];
}

export function verificationStatus(report: VerifyReport): {
  status: "intact" | "warnings" | "failed";
  label: string;
} {
  if (!report.ok) {
    const at = report.failure?.seq !== undefined ? ` at seq ${report.failure.seq}` : "";
    return { status: "failed", label: `FAILED${at}` };
  }
  return report.warnings.length > 0
    ? {
        status: "warnings",
        label: `intact, ${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"}`,
      }
    : { status: "intact", label: "intact" };
}

/** JSON that is safe inside a script element: `<` cannot start `</script>` or `<!--`. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** Everything before the first entry. */
export function reportHead(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'none'; connect-src 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Warden audit report</title>
<style>body{margin:1.5em}${READING_CSS}</style>
</head>
<body>
<main id="reading" class="reading"></main>
<noscript><p>This report needs JavaScript to show the log; entries.jsonl and entries.csv hold the same data.</p></noscript>
<script type="application/json" id="audit-entries">[`;
}

/** One entry (or erased seq) of the log, in order; `first` for the first of them. */
export function reportEntry(entry: ReportEntry, first: boolean): string {
  return first ? scriptSafeJson(entry) : `,${scriptSafeJson(entry)}`;
}

/** Everything after the last entry: the case, the verdict, and the script that shows them. */
export function reportTail(meta: ReportMeta): string {
  const { status, label } = verificationStatus(meta.verification);
  const data = {
    case: meta.case,
    verification: {
      status,
      label,
      failure: meta.verification.failure ?? null,
      warnings: meta.verification.warnings satisfies Finding[],
      entries: meta.verification.entries,
      erased: meta.verification.erased,
      signedSize: meta.verification.signedSize,
      root: meta.verification.root,
      verifiedWith: meta.verifiedWith,
    },
    // The export's verification checks no witness: a verifier that does (and reuses its run to
    // render this file again) must render the same words, so witnesses are left out here.
    verdict: verdictOf({
      report: { ...meta.verification, witnesses: undefined },
      keyWords: meta.verifiedWith,
      when: "export",
    }),
    ...(meta.clock ? { clock: meta.clock } : {}),
    generatedAt: meta.generatedAt,
    software: meta.software,
  };
  return `]</script>
<script type="application/json" id="audit-meta">${scriptSafeJson(data)}</script>
<script>${READING_SCRIPT}</script>
<script>(function () {
  var data = JSON.parse(document.getElementById("audit-meta").textContent);
  data.entries = function () { return JSON.parse(document.getElementById("audit-entries").textContent); };
  WardenReading.mount(document.getElementById("reading"), data);
})();</script>
</body>
</html>
`;
}

/** The whole report at once: what `reportHead`, `reportEntry` and `reportTail` write piece by piece. */
export function renderReport(input: ReportInput): string {
  const { entries, ...meta } = input;
  return reportHead() + entries.map((e, i) => reportEntry(e, i === 0)).join("") + reportTail(meta);
}

/**
 * The reading's script and style, read once: the same files the console
 * serves, inlined so the report stays one self-contained file. The script
 * gets `visible` from the one escaper (`src/base/html.ts`).
 */
export const READING_SCRIPT = `${BROWSER_SHOW_INVISIBLE}\n${readFileSync(new URL("./reading/reading.js", import.meta.url), "utf8")}`;
export const READING_CSS = readFileSync(new URL("./reading/reading.css", import.meta.url), "utf8");
