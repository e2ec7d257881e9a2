import { Command } from "commander";
import { requireCase } from "../../actions/case-changes.ts";
import { runRetention } from "../../collect/retention.ts";
import { listCases } from "../../store/cases.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden retention run [--case ID] [--now ISO]`: erases what is past each
 * case's retention (payloads gone, counts kept), each erasure an `erase`
 * entry in the case's audit log. Meant for a daily timer; `--now` lets an
 * operator see the effect of a date ahead, on a copy.
 */

type Ctx = () => CliContext;

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime()))
    throw new CliError(
      `--now "${text}" is not an ISO date, e.g. 2026-09-01 or 2026-09-01T12:00:00Z`,
    );
  return date;
}

export function retentionCommand(ctx: Ctx): Command {
  const cmd = new Command("retention").description("erase collected data past its retention");
  cmd
    .command("run")
    .description("erase, in every case (or one), what is older than the case's retention")
    .option("--case <id>", "only this case")
    .option("--now <iso>", "the date to count retention from (default: now)")
    .action(async (opts: { case?: string; now?: string }) => {
      const now = parseNow(opts.now);
      const c = ctx();
      const store = await c.openStore({ durable: true });
      const redis = store.connection.redis;
      const records = opts.case ? [await requireCase(redis, opts.case)] : await listCases(redis);
      if (records.length === 0) return c.out("no cases: nothing to erase");
      for (const record of records) {
        const r = await runRetention({ redis, audit: store.audit, actor: c.actor }, record, now);
        c.out(
          `${r.caseId}: erased ${r.messages} messages, ${r.events} events, ${r.admins} roster snapshots, ${r.members} member profiles, ${r.files} media files, ${r.auditEntries} audit entry payloads (collected before ${r.cutoff})`,
        );
      }
    });
  return cmd;
}
