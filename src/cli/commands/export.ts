import { resolve } from "node:path";
import { Command, Option } from "commander";
import { parseTelegramId, requireCase } from "../../actions/case-changes.ts";
import type { Actor } from "../../audit/entry.ts";
import { ExportRefusedError, exportCollected } from "../../collect/export/export.ts";
import type { ExportFormat } from "../../collect/export/format.ts";
import { ExportVerifyError, verifyExport } from "../../collect/export/manifest.ts";
import { EXPORT_KINDS, type ExportKind } from "../../collect/export/rows.ts";
import { getRole } from "../../store/cases.ts";
import type { Redis } from "../../store/redis.ts";
import { type CliContext, CliError } from "../context.ts";
import { createProgress } from "../progress.ts";

/**
 * `warden export members|messages|events|admins` and `warden export verify`:
 * collected data out of Warden, on the record. Every export needs a
 * justification and is logged before anything is read (`consult`, or
 * `disclose` with --recipient); the file gets a manifest beside it that
 * `verify` checks. An existing file is never overwritten without --force.
 */

type Ctx = () => CliContext;

interface ExportOptions {
  case: string;
  format: ExportFormat;
  out: string;
  justification: string;
  recipient: string[];
  force?: boolean;
  as?: string;
}

/**
 * Who the export is for: with --as, a supervisor or auditor of the case (operators see summaries
 * only, in Telegram); without, the person at the server's keyboard.
 */
async function exporter(redis: Redis, c: CliContext, caseId: string, as?: string): Promise<Actor> {
  if (as === undefined) return c.actor;
  const grant = await getRole(redis, caseId, parseTelegramId(as, "user"));
  if (!grant)
    throw new CliError(
      `user ${as} holds no role in case ${caseId}: see \`warden operator list ${caseId}\``,
    );
  if (grant.role === "operator")
    throw new CliError(
      `${grant.name} is an operator: operators see summaries (/collect, /who); an export is for a supervisor or an auditor`,
    );
  return {
    kind: grant.role,
    id: grant.userId,
    name: `${grant.name} (via ${c.actor.name})`,
    role: grant.role,
  };
}

function collectRecipient(value: string, previous: string[]): string[] {
  const name = value.trim();
  if (!name) throw new CliError('--recipient needs a name, e.g. --recipient "OM Rotterdam"');
  return [...previous, name];
}

function kindCommand(ctx: Ctx, kind: ExportKind): Command {
  return new Command(kind)
    .description(`export the ${kind} Warden collected in a case`)
    .requiredOption("--case <id>", "case id")
    .addOption(
      new Option("--format <format>", "file format")
        .choices(["csv", "jsonl"])
        .makeOptionMandatory(),
    )
    .requiredOption("--out <file>", "file to write (refused if it exists, unless --force)")
    .requiredOption("--justification <text>", "why this data leaves Warden (logged)")
    .option(
      "--recipient <name>",
      "who receives it (repeatable); makes the export a logged disclosure",
      collectRecipient,
      [],
    )
    .option("--force", "replace an existing file")
    .option(
      "--as <telegram-user-id>",
      "the supervisor or auditor the export is made for (logged as the actor)",
    )
    .action(async (opts: ExportOptions) => {
      const c = ctx();
      const store = await c.openStore({ durable: false });
      const redis = store.connection.redis;
      const record = await requireCase(redis, opts.case);
      const actor = await exporter(redis, c, record.id, opts.as);
      const out = resolve(opts.out);
      const progress = createProgress(`export ${kind}`);
      try {
        const manifest = await exportCollected(
          { redis, audit: store.audit, actor },
          {
            record,
            kind,
            format: opts.format,
            out,
            justification: opts.justification,
            recipients: opts.recipient,
            force: opts.force === true,
            onProgress: (done, total) => progress.update(done, total),
          },
        );
        progress.done();
        c.out(
          `exported ${manifest.rows} ${kind} of case ${record.id} to ${out} (sha256 ${manifest.sha256}); logged as ${manifest.audit.op} #${manifest.audit.intent_seq}; manifest ${out}.manifest.json`,
        );
      } catch (err) {
        progress.done();
        if (err instanceof ExportRefusedError) throw new CliError(err.message);
        throw err;
      }
    });
}

export function exportCommand(ctx: Ctx): Command {
  const cmd = new Command("export").description(
    "export collected data (members, messages, events, admins) with a manifest; verify an export",
  );
  for (const kind of EXPORT_KINDS) cmd.addCommand(kindCommand(ctx, kind));
  cmd
    .command("verify")
    .description("check an export against the manifest beside it (exit 1 if they differ)")
    .argument("<file>", "the exported file")
    .action(async (file: string) => {
      const c = ctx();
      try {
        const m = await verifyExport(resolve(file));
        c.out(
          `ok: ${file} matches its manifest: ${m.rows} ${m.kind} of case ${m.case} (${m.authority}), sha256 ${m.sha256}, exported ${m.exported_at} by ${m.exported_by}, logged as ${m.audit.op} #${m.audit.intent_seq}`,
        );
      } catch (err) {
        if (err instanceof ExportVerifyError) throw new CliError(err.message, err.exitCode);
        throw err;
      }
    });
  return cmd;
}
