import { Command } from "commander";
import { requireCase } from "../../actions/case-changes.ts";
import {
  ALL_CATEGORIES,
  COLLECTION_CATEGORIES,
  CollectionSettingsError,
  keptCategories,
  parseKeep,
} from "../../collect/minimise.ts";
import { writeCase } from "../../store/cases.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden case collection <case> [--keep text,media,…]`: which parts of
 * messages a case keeps (data minimisation). Without --keep it shows the
 * setting; with it, it changes the case record on the record (a `config`
 * entry). It applies to what is collected from then on, within seconds.
 */

type Ctx = () => CliContext;

export function caseCollectionCommand(ctx: Ctx): Command {
  return new Command("collection")
    .description("show or set what a case keeps of each message (data minimisation)")
    .argument("<case>", "case id")
    .option(
      "--keep <list>",
      `comma-separated: ${ALL_CATEGORIES.join(", ")} (or all, default, none)`,
    )
    .action(async (caseId: string, opts: { keep?: string }) => {
      const c = ctx();
      let keep: string[] | undefined;
      if (opts.keep !== undefined) {
        try {
          keep = parseKeep(opts.keep);
        } catch (err) {
          if (err instanceof CollectionSettingsError) throw new CliError(err.message);
          throw err;
        }
      }
      const store = await c.openStore({ durable: keep !== undefined });
      const redis = store.connection.redis;
      const record = await requireCase(redis, caseId);
      if (keep !== undefined) {
        if (record.status !== "open")
          throw new CliError(`case "${caseId}" is closed: it can no longer be changed`);
        const previous = [...keptCategories(record)];
        await store.audit.record(
          {
            case: caseId,
            actor: c.actor,
            op: "config",
            phase: "info",
            params: { collection: { keep }, previous: { keep: previous } },
          },
          { writes: writeCase({ ...record, collection: { keep } }) },
        );
        record.collection = { keep };
      }
      const kept = keptCategories(record);
      c.out(`case ${caseId} keeps members, names, membership events and:`);
      for (const category of ALL_CATEGORIES)
        c.out(
          `  [${kept.has(category) ? "x" : " "}] ${category}: ${COLLECTION_CATEGORIES[category]}`,
        );
    });
}
