import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { writeKeyFiles } from "../../src/audit/checkpoint.ts";
import { freePort, type startRedisServer } from "../setup/redis-server.ts";
import type { CliResult } from "./cli.ts";

/** What the tests of a Redis Warden cannot use (tests/foundation/redis-*.test.ts) share. */

/** Each test runs the CLI a few times, each a fresh Node process with tsx: allow for a busy machine. */
export const SLOW = 90_000;

export type OwnServer = Awaited<ReturnType<typeof startRedisServer>>;

export const ADMIN_PASSWORD = "Adm1n-pass-7f3c9e";
export const USER_PASSWORD = "Us3r-pass-2b8d41";
export const WRONG_PASSWORD = "Wr0ng-pass-9a6e05";
const PASSWORDS = [ADMIN_PASSWORD, USER_PASSWORD, WRONG_PASSWORD];

export const createCase = [
  "case",
  "create",
  "op-x",
  "--title",
  "t",
  "--authority",
  "OM-1",
  "--purpose",
  "p",
  "--retention-days",
  "30",
];

/** Exit 2, exactly one line on stderr matching `pattern`, and no password anywhere in the output. */
export function expectRefused(result: CliResult, pattern: RegExp): string {
  const lines = result.stderr.split("\n").filter((l) => l !== "");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]).not.toMatch(/^\s*at |\{"level"/);
  expect(result.code).toBe(2);
  for (const password of PASSWORDS) {
    expect(result.stdout).not.toContain(password);
    expect(result.stderr).not.toContain(password);
    expect(result.stderr).not.toContain(encodeURIComponent(password));
  }
  return lines[0] as string;
}

/** How many keys each database of a server holds, asked by a client of the test's own. */
export async function keyCounts(port: number, password?: string): Promise<string> {
  const admin = new Redis({ port, host: "127.0.0.1", ...(password ? { password } : {}) });
  try {
    return (await admin.info("keyspace")).trim();
  } finally {
    admin.disconnect();
  }
}

/** An audit signing key and the environment of a live `warden start` that never reaches Telegram. */
export async function liveEnv(redisUrl: string): Promise<Record<string, string>> {
  const key = join(mkdtempSync(join(tmpdir(), "warden-key-")), "audit.key");
  writeKeyFiles(key, "warden-test");
  return {
    BOT_TOKEN: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    WARDEN_AUDIT_KEY: key,
    // A closed port: should Warden get past Redis, it would fail here, never reach the internet.
    TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}`,
    LOG_LEVEL: "info",
    REDIS_URL: redisUrl,
  };
}
