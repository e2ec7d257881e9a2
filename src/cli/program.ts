import { Command, CommanderError } from "commander";
import { InputError, requireCase } from "../actions/case-changes.ts";
import { KeyFileError } from "../audit/checkpoint.ts";
import { AuditUnavailableError, RecordRefusedError } from "../audit/record.ts";
import { loadCaseLexicon } from "../collect/lexicon/store.ts";
import { describeRedisUrl, RedisConnectError } from "../store/redis.ts";
import { auditCommand } from "./commands/audit.ts";
import { caseCommand, chatCommand, controlRoomCommand, operatorCommand } from "./commands/case.ts";
import { caseCollectionCommand } from "./commands/collection.ts";
import { consoleCommand } from "./commands/console.ts";
import { detectCommand } from "./commands/detect.ts";
import { exportCommand } from "./commands/export.ts";
import { rehearseCommand } from "./commands/rehearse.ts";
import { retentionCommand } from "./commands/retention.ts";
import { scenarioCommand } from "./commands/scenario.ts";
import { simCommand } from "./commands/sim.ts";
import { startCommand } from "./commands/start.ts";
import { worldCommand } from "./commands/world.ts";
import { ConfigError } from "./config.ts";
import { type CliContext, CliError, createCliContext } from "./context.ts";

/**
 * Warden's command line. Every command gets the same context, built lazily so
 * that `--help` works even when the environment is not configured yet.
 */
export function buildProgram(getCtx: () => CliContext): Command {
  const program = new Command("warden")
    .description("Warden: run a police takeover of a seized Telegram group, on the record")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const cmd of [
    startCommand(getCtx),
    caseCommand(getCtx).addCommand(caseCollectionCommand(getCtx)),
    operatorCommand(getCtx),
    chatCommand(getCtx),
    controlRoomCommand(getCtx),
    auditCommand(getCtx),
    detectCommand({
      loadCaseLexicon: async (caseId) => {
        const store = await getCtx().openStore({ durable: false });
        await requireCase(store.connection.redis, caseId);
        return loadCaseLexicon(store.connection.redis, caseId);
      },
    }),
    simCommand(getCtx),
    exportCommand(getCtx),
    retentionCommand(getCtx),
    scenarioCommand(getCtx),
    worldCommand(getCtx),
    rehearseCommand(getCtx),
    consoleCommand(getCtx),
  ]) {
    program.addCommand(cmd);
  }
  // Commander's own usage errors exit with 2, like Warden's bad-input errors.
  const exitOverride = (err: CommanderError) => {
    throw err;
  };
  const walk = (cmd: Command) => {
    cmd.exitOverride(exitOverride);
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
  return program;
}

/** Runs the CLI with `argv` and returns the process exit code. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let ctx: CliContext | undefined;
  const getCtx = () => {
    ctx ??= createCliContext(env);
    return ctx;
  };
  const program = buildProgram(getCtx);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    return reportError(err, ctx?.config.REDIS_URL);
  } finally {
    await ctx?.close();
  }
}

function reportError(err: unknown, redisUrl: string | undefined): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    if (
      err.code === "commander.helpDisplayed" ||
      err.code === "commander.version" ||
      err.code === "commander.help"
    )
      return 0;
    return 2;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(
      `warden: configuration is not valid:\n${err.problems.map((p) => `  ${p}`).join("\n")}\n`,
    );
    return 2;
  }
  if (
    err instanceof InputError ||
    err instanceof RecordRefusedError ||
    err instanceof RedisConnectError ||
    err instanceof KeyFileError
  ) {
    process.stderr.write(`warden: ${err.message}\n`);
    return 2;
  }
  if (err instanceof CliError) {
    process.stderr.write(`warden: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof AuditUnavailableError) {
    process.stderr.write(`warden: ${err.message}\n`);
    return 1;
  }
  if (redisUrl && isConnectionLoss(err)) {
    // ioredis's own words ("Reached the max retries per request limit …") say little to an operator.
    process.stderr.write(
      `warden: lost the connection to Redis at ${describeRedisUrl(redisUrl)} before the command finished: check that the server runs, then see whether the command took effect before running it again\n`,
    );
    return 1;
  }
  process.stderr.write(`warden: ${(err as Error).message ?? String(err)}\n`);
  return 1;
}

/** ioredis gave up on a command because the connection went (and did not come back in time). */
function isConnectionLoss(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === "MaxRetriesPerRequestError" || err.message === "Connection is closed.")
  );
}
