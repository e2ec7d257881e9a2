import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { type BundleReport, ExportError, exportBundle, verifyBundle } from "../../audit/bundle.ts";
import {
  KeyFileError,
  loadSigner,
  loadVerifier,
  parseCheckpoint,
  type Signer,
  splitNotes,
  type Verifier,
  verifierOf,
  writeKeyFiles,
} from "../../audit/checkpoint.ts";
import { cosignedAt } from "../../audit/cosignature.ts";
import { COSIGNATURE_ED25519 } from "../../audit/note-keys.ts";
import { createAuditLog } from "../../audit/record.ts";
import { verificationStatus } from "../../audit/report.ts";
import type { VerifyReport } from "../../audit/verify.ts";
import { hasAuditLog, verifyCaseLog } from "../../audit/verify-case.ts";
import { getCase } from "../../store/cases.ts";
import { assertCaseId } from "../../store/keys.ts";
import { type CliContext, CliError } from "../context.ts";
import { entryProgress } from "../progress.ts";
import { witnessCommand } from "./audit-witness.ts";

/**
 * `warden audit …`: make the signing key, verify a case's log (in Redis or as
 * an exported bundle), export a bundle for auditors, sign a checkpoint now,
 * and the witness's commands (`audit-witness.ts`). verify exits 0 when the
 * log is intact (warnings are printed), 1 naming the first failing seq, 2
 * when asked for something that does not exist. Its output says what it
 * checked: for a bundle, file by file, and first of all when nothing was
 * authenticated; with witness keys, how far each witness vouches.
 */

type Ctx = () => CliContext;

function keyError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeyFileError) throw new CliError(err.message, 2);
    throw err;
  }
}

function checkCaseId(caseId: string): void {
  try {
    assertCaseId(caseId);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

async function readHeldCheckpoint(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CliError(
      `checkpoint file ${path} cannot be read: pass the checkpoints file of an earlier export`,
      2,
    );
  }
  // A bundle's checkpoints file holds several; the largest commits to the most.
  const notes = splitNotes(text);
  const sized = notes.flatMap((n) => {
    try {
      return [{ n, size: parseCheckpoint(n).size }];
    } catch {
      return [];
    }
  });
  const best = sized.sort((a, b) => b.size - a.size)[0];
  if (!best) throw new CliError(`${path} holds no readable checkpoint`, 2);
  return best.n;
}

/** How far each witness's cosignatures reach, one line each: entries past them rest on the operator's key alone. */
function witnessLines(report: VerifyReport): string[] {
  return (report.witnesses ?? []).map((w) => {
    const who = `witness ${w.name} (${w.keyId})`;
    const when = w.time !== undefined ? ` on ${cosignedAt(w.time)}` : "";
    if (w.size === 0) return `${who}: cosigned nothing of this log`;
    if (w.size >= report.entries)
      return `${who}: cosigned the end of the log (size ${w.size}${when})`;
    return `${who}: cosigned up to seq ${w.size}${when}; entries ${w.size + 1}–${report.entries} are not covered by it and are only as trustworthy as the operator's key`;
  });
}

function printReport(c: CliContext, subject: string, report: VerifyReport | BundleReport): void {
  const bundle = "files" in report ? report : undefined;
  if (bundle && !bundle.authenticated) {
    c.out(
      "NOT AUTHENTICATED: no --pubkey given, and the key shipped inside the bundle proves nothing (whoever altered the bundle could have re-signed it): pass --pubkey with the key you got from the case officer",
    );
  }
  for (const w of report.warnings)
    c.out(`warning${w.seq !== undefined ? ` (seq ${w.seq})` : ""}: ${w.message}`);
  for (const f of bundle?.files ?? []) c.out(`${f.file}: ${f.detail}`);
  // What a witness vouches for means something only of a log that verified.
  if (report.ok) for (const line of witnessLines(report)) c.out(line);
  const { label } = verificationStatus(report);
  const signed =
    report.signedSize > 0 ? `signed up to ${report.signedSize}` : "no verified signature";
  const verdict =
    bundle && !bundle.authenticated
      ? `${label.toUpperCase()}, NOT AUTHENTICATED`
      : label.toUpperCase();
  c.out(
    `${subject}: ${verdict}: ${report.entries} entries${report.erased ? ` (${report.erased} erased)` : ""}, ${signed}, root ${report.root || "-"}`,
  );
  if (!report.ok) {
    const at = report.failure?.seq !== undefined ? ` at seq ${report.failure.seq}` : "";
    throw new CliError(`${subject} FAILED${at}: ${report.failure?.message}`, 1);
  }
}

function configuredSigner(c: CliContext): Signer | undefined {
  const path = c.config.WARDEN_AUDIT_KEY;
  return path ? keyError(() => loadSigner(path)) : undefined;
}

export function auditCommand(ctx: Ctx): Command {
  const cmd = new Command("audit").description(
    "signing key, verification, export and witnessing of the tamper-evident audit log",
  );

  cmd
    .command("keygen")
    .description(
      "make an Ed25519 key pair for signing checkpoints: FILE (private, mode 0600) and FILE.pub (for auditors)",
    )
    .requiredOption(
      "--out <file>",
      "where to write the private key; the public key goes to <file>.pub",
    )
    .option("--name <name>", "key name shown in signatures, e.g. warden-lka-bw", "warden")
    .action((opts: { out: string; name: string }) => {
      const c = ctx();
      const written = keyError(() => writeKeyFiles(opts.out, opts.name));
      c.out(
        `private key: ${written.privatePath} (mode 0600): set WARDEN_AUDIT_KEY=${written.privatePath}`,
      );
      c.out(`public key for auditors: ${written.publicPath}`);
      c.out(written.verifierKey);
    });

  cmd
    .command("verify")
    .description(
      "verify a case's log in Redis (--case) or an exported bundle with no Redis (--bundle)",
    )
    .option("--case <id>", "the case whose log to verify, in Redis")
    .option("--bundle <dir>", "an exported bundle directory")
    .option(
      "--pubkey <file>",
      "the .pub file of the signing key (default for --case: from WARDEN_AUDIT_KEY)",
    )
    .option(
      "--checkpoint <file>",
      "a checkpoint you kept from an earlier export, or the one a witness keeps: the log must still extend it",
    )
    .option(
      "--witness-pubkey <file>",
      "a witness's .pub file (repeat for several): the log must not contradict a checkpoint it cosigned, and the report says how far it vouches",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--clock-tolerance <ms>",
      "how far timestamps may go back before they are flagged",
      "2000",
    )
    .action(
      async (opts: {
        case?: string;
        bundle?: string;
        pubkey?: string;
        checkpoint?: string;
        witnessPubkey?: string[];
        clockTolerance: string;
      }) => {
        const c = ctx();
        if ((opts.case === undefined) === (opts.bundle === undefined)) {
          throw new CliError(
            "pass exactly one of --case ID (a log in Redis) or --bundle DIR (an exported bundle)",
            2,
          );
        }
        const clockToleranceMs = Number(opts.clockTolerance);
        if (!Number.isSafeInteger(clockToleranceMs) || clockToleranceMs < 0) {
          throw new CliError(
            `--clock-tolerance "${opts.clockTolerance}" is not a whole number of milliseconds`,
            2,
          );
        }
        const pubkey = opts.pubkey;
        let verifiers: Verifier[] | undefined = pubkey
          ? [keyError(() => loadVerifier(pubkey))]
          : undefined;
        const heldCheckpoint = opts.checkpoint
          ? await readHeldCheckpoint(opts.checkpoint)
          : undefined;
        const witnesses = (opts.witnessPubkey ?? []).map((path) =>
          keyError(() => loadVerifier(path, COSIGNATURE_ED25519)),
        );
        if (opts.bundle !== undefined) {
          const progress = entryProgress("verifying the bundle");
          const report = await verifyBundle(opts.bundle, {
            verifiers,
            heldCheckpoint,
            clockToleranceMs,
            witnesses,
            progress: progress.report,
          }).finally(progress.done);
          printReport(c, `bundle ${opts.bundle}`, report);
          return;
        }
        const caseId = opts.case as string;
        checkCaseId(caseId);
        if (!verifiers) {
          const signer = configuredSigner(c);
          verifiers = signer ? [verifierOf(signer)] : undefined;
        }
        const store = await c.openStore({ durable: false });
        const { redis } = store.connection;
        if (!(await hasAuditLog(redis, caseId)) && !(await getCase(redis, caseId))) {
          throw new CliError(
            `unknown case "${caseId}": no audit log in ${store.connection.description}; see \`warden case list\``,
            2,
          );
        }
        const progress = entryProgress(`verifying the log of case ${caseId}`);
        const report = await verifyCaseLog(redis, caseId, {
          verifiers,
          heldCheckpoint,
          clockToleranceMs,
          witnesses,
          progress: progress.report,
        }).finally(progress.done);
        printReport(c, `audit log of case ${caseId}`, report);
      },
    );

  cmd
    .command("export")
    .description(
      "write an offline bundle for auditors; the export is logged as a disclose entry first",
    )
    .requiredOption("--case <id>", "the case to export")
    .requiredOption("--out <dir>", "a new, empty directory for the bundle")
    .requiredOption(
      "--justification <text>",
      "why the log is handed over (Article 25: disclosure must say why)",
    )
    .option(
      "--recipient <name>",
      "who receives the bundle; repeat for several (default: whoever runs the export)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(
      async (opts: { case: string; out: string; justification: string; recipient?: string[] }) => {
        const c = ctx();
        checkCaseId(opts.case);
        if (!opts.justification.trim())
          throw new CliError("--justification must say why the log is handed over", 2);
        const signer = configuredSigner(c);
        const store = await c.openStore({ durable: false });
        const { redis } = store.connection;
        if (!(await getCase(redis, opts.case))) {
          throw new CliError(`unknown case "${opts.case}": see \`warden case list\``, 2);
        }
        if (!signer) {
          c.out(
            "warning: WARDEN_AUDIT_KEY is not set: the bundle gets no new signed checkpoint and no pubkey",
          );
        }
        // The store's log: with REDIS_WAIT_REPLICAS its disclose entry is held by the replicas
        // before anything is written out (src/cli/context.ts).
        const log = store.audit;
        const recipients = opts.recipient?.length ? opts.recipient : [c.actor.name ?? c.actor.kind];
        const progress = entryProgress(`exporting the log of case ${opts.case}`);
        const result = await exportBundle(log, {
          caseId: opts.case,
          out: opts.out,
          justification: opts.justification,
          recipients,
          actor: c.actor,
          progress: progress.report,
        })
          .catch((err: unknown) => {
            if (err instanceof ExportError) throw new CliError(err.message, 2);
            throw err;
          })
          .finally(progress.done);
        c.out(
          `logged the export as seq ${result.disclose.seq} (disclose to ${recipients.join(", ")})`,
        );
        c.out(`wrote ${result.files.join(", ")} to ${opts.out}`);
        printReport(c, `audit log of case ${opts.case} as exported`, result.verification);
      },
    );

  cmd
    .command("checkpoint")
    .description(
      "sign a checkpoint of a case's log now with WARDEN_AUDIT_KEY and print it (keep it to check later exports)",
    )
    .requiredOption("--case <id>", "the case")
    .action(async (opts: { case: string }) => {
      const c = ctx();
      checkCaseId(opts.case);
      const signer = configuredSigner(c);
      if (!signer)
        throw new CliError("set WARDEN_AUDIT_KEY to the signing key: see `warden audit keygen`", 2);
      const store = await c.openStore({ durable: false });
      const { redis } = store.connection;
      if (!(await hasAuditLog(redis, opts.case)))
        throw new CliError(`unknown case "${opts.case}": it has no audit log`, 2);
      // Sign only what verifies: a checkpoint vouches for every entry it covers.
      const report = await verifyCaseLog(redis, opts.case, { verifiers: [verifierOf(signer)] });
      if (!report.ok) printReport(c, `audit log of case ${opts.case}`, report);
      const log = createAuditLog({ redis, signer });
      try {
        const note = await log.checkpoint(opts.case);
        if (note) c.out(note.trimEnd());
      } finally {
        await log.close();
      }
    });

  cmd.addCommand(witnessCommand(ctx));

  return cmd;
}
