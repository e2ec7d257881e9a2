import { Command, Option } from "commander";
import { runSimulatorCli } from "../../sim/index.ts";
import { type CliContext, CliError } from "../context.ts";

/** `warden sim`: the Bot API simulator on its own, for scenario authors and manual rehearsals. */
export function simCommand(ctx: () => CliContext): Command {
  return new Command("sim")
    .description(
      "run the Telegram Bot API simulator; prints the TELEGRAM_API_ROOT and bot token to use",
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .addOption(new Option("--port <port>", "port to listen on").default("8081"))
    .option(
      "--world <file>",
      "a world YAML file to load (users, chats, a timeline of member messages)",
    )
    .option("--no-rate-limits", "answer every call, without Telegram's 429s")
    .action(async (opts: { host: string; port: string; world?: string; rateLimits: boolean }) => {
      const c = ctx();
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port ${opts.port} is not a TCP port`);
      const running = await runSimulatorCli({
        host: opts.host,
        port,
        rateLimits: opts.rateLimits,
        ...(opts.world ? { world: opts.world } : {}),
        print: c.out,
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await running.close();
    });
}
