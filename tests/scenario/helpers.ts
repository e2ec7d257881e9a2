import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { AuditEntry } from "../../src/audit/entry.ts";
import { entriesSince } from "../../src/audit/recent.ts";
import { openRehearsal, type Rehearsal, type RehearsalOptions } from "../../src/cli/rehearsal.ts";
import type { CallRecord } from "../../src/sim/index.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/**
 * A rehearsal as a test stage: the shipped world and scenario, the simulator
 * without flood limits (tests check behaviour, the benchmark checks limits),
 * a Redis database of its own on the test server, and the transcript kept
 * for assertions and for reading when a test fails.
 */
export interface Staged {
  r: Rehearsal;
  lines: string[];
  dataDir: string;
  /** Every Bot API call the bot made, in order. */
  calls(): Promise<CallRecord[]>;
  entries(): Promise<AuditEntry[]>;
}

export async function stageRehearsal(opts: Partial<RehearsalOptions> = {}): Promise<Staged> {
  const lines: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "warden-rehearsal-"));
  const r = await openRehearsal({
    fast: true,
    rateLimits: false,
    redisUrl: await freshRedisUrl(),
    dataDir,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    out: (line) => {
      lines.push(line);
      if (process.env.TEST_TRANSCRIPT) console.log(line);
    },
    ...opts,
  });
  return {
    r,
    lines,
    dataDir,
    calls: async () => (await r.control.calls(0)).filter((c) => c.bot_id === r.botId),
    entries: () => entriesSince(r.redis, r.caseId, 0),
  };
}

/** The text a sendMessage call sent, without HTML. */
export function textOf(call: CallRecord): string {
  return String((call.params as { text?: string }).text ?? "").replace(/<[^>]+>/g, "");
}
