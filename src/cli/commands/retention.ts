import { Command } from "commander";
import { requireCase } from "../../actions/case-changes.ts";
import { type RetentionReport, runRetention } from "../../collect/retention.ts";
import { listCases } from "../../store/cases.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden retention run [--case ID] [--dry-run [--now ISO]]`: erases what is
 * past each case's retention (payloads gone, counts kept), each erasure an
 * `erase` entry in the case's audit log naming whoever ran it. Meant for a
 * daily timer. Retention is counted from today: `--now` shows what a later
 * run would erase, and only with `--dry-run`, which writes nothing, so no
 * command erases evidence before its retention ends.
 */

type Ctx = () => CliContext;

function parseNow(text: string | undefined, dryRun: boolean): Date {
  if (text === undefined) return new Date();
  if (!dryRun) {
    throw new CliError(
      "--now is only for --dry-run: a real run counts retention from today, so nothing is erased before its retention ends; add --dry-run to see what a run on that day would erase",
    );
  }
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime()))
    throw new CliError(
      `--now "${text}" is not an ISO date, e.g. 2026-09-01 or 2026-09-01T12:00:00Z`,
    );
  return date;
}

function summary(r: RetentionReport): string {
  const what = `${r.messages} messages, ${r.events} events, ${r.admins} roster snapshots, ${r.members} member profiles, ${r.files} media files, ${r.auditEntries} audit entry payloads (collected before ${r.cutoff})`;
  return r.dryRun
    ? `${r.caseId}: would erase ${what}; nothing was written`
    : `${r.caseId}: erased ${what}`;
}

export function retentionCommand(ctx: Ctx): Command {
  const cmd = new Command("retention").description("erase collected data past its retention");
  cmd
    .command("run")
    .description("erase, in every case (or one), what is older than the case's retention")
    .option("--case <id>", "only this case")
    .option("--dry-run", "show what would be erased, and write nothing")
    .option(
      "--now <iso>",
      "with --dry-run: count retention from this date instead of today, to see what a later run would erase",
    )
    .action(async (opts: { case?: string; now?: string; dryRun?: boolean }) => {
      const dryRun = opts.dryRun === true;
      const now = parseNow(opts.now, dryRun);
      const c = ctx();
      const store = await c.openStore({ durable: true });
      const redis = store.connection.redis;
      const records = opts.case ? [await requireCase(redis, opts.case)] : await listCases(redis);
      if (records.length === 0) return c.out("no cases: nothing to erase");
      for (const record of records) {
        const r = await runRetention({ redis, audit: store.audit, actor: c.actor }, record, {
          now,
          dryRun,
        });
        c.out(summary(r));
      }
    });
  return cmd;
}
