/**
 * `warden sim`: start the simulator on a fixed port and tell the operator
 * what to point the bot at.
 */
import { type RunningSimulator, startSimulator } from "./http/server.ts";
import type { World } from "./world/load.ts";

export interface SimulatorCliOptions {
  host?: string;
  port?: number;
  /** World YAML path or object. */
  world?: World | string;
  rateLimits?: boolean;
  /** Where to print; console.log by default. */
  print?: (line: string) => void;
}

export async function runSimulatorCli(
  options: SimulatorCliOptions = {},
): Promise<RunningSimulator> {
  const print = options.print ?? ((line: string) => console.log(line));
  const running = await startSimulator({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 8081,
    ...(options.world !== undefined ? { world: options.world } : {}),
    ...(options.rateLimits !== undefined ? { rateLimits: options.rateLimits } : {}),
  });
  print(`Telegram Bot API simulator listening on ${running.url}`);
  print(`TELEGRAM_API_ROOT=${running.apiRoot}`);
  const bots = [...running.sim.world.bots.values()];
  if (bots.length === 0)
    print(`No bots yet: POST ${running.url}/sim/bots {"username":"…_bot"} to create one.`);
  for (const bot of bots) print(`BOT_TOKEN=${bot.token}  (@${bot.user.username})`);
  print(`Control API: ${running.url}/sim/…  (GET /sim/chats, POST /sim/clock, GET /sim/calls)`);
  return running;
}
