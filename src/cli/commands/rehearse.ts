import { Command } from "commander";
import { type CliContext, CliError } from "../context.ts";
import { rehearseScenario } from "../rehearsal.ts";

/**
 * `warden rehearse [scenario] [--world FILE] [--fast]`: runs a scenario end
 * to end against the built-in simulator, on the embedded Redis or REDIS_URL,
 * prints what members and operators saw and each action with its audit seq
 * (the transcript, alone on stdout; Warden's own log goes to a file it
 * names), verifies the audit log and exports it. Exits 1 when a step failed,
 * a needed right was missing or the log does not verify.
 */
export function rehearseCommand(ctx: () => CliContext): Command {
  return new Command("rehearse")
    .description("rehearse a scenario against the built-in Telegram simulator")
    .argument("[scenario]", "a scenario id from scenarios/ or the path of a scenario file")
    .option(
      "--world <file>",
      "the world to rehearse in (default: the shipped world made for the scenario)",
    )
    .option("--fast", "jump the simulated clock without pausing (days in seconds)")
    .option(
      "--no-rate-limits",
      "let the simulator answer every call, without Telegram's flood limits",
    )
    .action(
      async (
        scenario: string | undefined,
        opts: { world?: string; fast?: boolean; rateLimits: boolean },
      ) => {
        const c = ctx();
        const result = await rehearseScenario({
          ...(scenario ? { scenario } : {}),
          ...(opts.world ? { worldPath: opts.world } : {}),
          fast: opts.fast === true,
          rateLimits: opts.rateLimits,
          dataDir: c.config.WARDEN_DATA_DIR,
          ...(c.config.REDIS_URL
            ? { redisUrl: c.config.REDIS_URL, redisMode: c.config.REDIS_MODE }
            : {}),
          redisConnectTimeoutMs: c.config.REDIS_CONNECT_TIMEOUT * 1000,
          ...(c.config.WARDEN_AUDIT_KEY ? { auditKeyPath: c.config.WARDEN_AUDIT_KEY } : {}),
          logger: c.logger,
          out: c.out,
        });
        if (!result.verified) throw new CliError("the audit log did not verify", 1);
        if (result.missingRights.length)
          throw new CliError(`the bot lacked admin rights: ${result.missingRights.join(", ")}`, 1);
        if (!result.ok)
          throw new CliError(
            result.failures.length
              ? `${result.failures.length} step(s) failed`
              : `the scenario did not finish (run ${result.runStatus})`,
            1,
          );
      },
    );
}
