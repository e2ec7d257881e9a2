/**
 * Warden's bot in a process of its own, as a live run has it (a tick every
 * 50 ms, state only in Redis), against the simulator and a real Redis; the
 * restart test kills it with SIGKILL and starts another. Its clock follows
 * the simulator's, read over the control API.
 *
 * argv: apiRoot token redisUrl scenariosDir simUrl
 */
import { Redis } from "ioredis";
import pino from "pino";
import { createAuditLog } from "../../../src/audit/record.ts";
import { createWardenBot, startPolling } from "../../../src/bot/create.ts";

const [apiRoot, token, redisUrl, scenariosDir, simUrl] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const redis = new Redis(redisUrl);
const audit = createAuditLog({ redis });

let nowMs = 0;
async function readClock(): Promise<void> {
  const response = await fetch(`${simUrl}/sim/clock`);
  const body = (await response.json()) as { result: { iso: string } };
  nowMs = Date.parse(body.result.iso);
}
await readClock();
setInterval(() => {
  readClock().catch(() => undefined);
}, 20);

const warden = createWardenBot({
  token,
  apiRoot,
  redis,
  audit,
  logger,
  now: () => nowMs,
  scenariosDir,
  scenarioTickMs: 50,
  throttle: false,
});
await warden.bot.init();
startPolling(warden, logger, { timeoutSeconds: 1 });
process.stdout.write("ready\n");
