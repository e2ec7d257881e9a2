import { Redis } from "ioredis";
import { afterEach } from "vitest";
import { ephemeralSigner, type Signer, verifierOf } from "../../src/audit/checkpoint.ts";
import type { AuditEntryInput } from "../../src/audit/entry.ts";
import { type AuditLog, type AuditLogDeps, createAuditLog } from "../../src/audit/record.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/** Connections and logs opened by a test, closed after it. */
const opened: { close(): Promise<unknown> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

export async function freshRedis(): Promise<{ redis: Redis; url: string }> {
  const url = await freshRedisUrl();
  const redis = new Redis(url);
  opened.push({ close: () => redis.quit() });
  return { redis, url };
}

export interface TestLog {
  redis: Redis;
  url: string;
  log: AuditLog;
  signer: Signer;
}

/** A log on its own database, with an ephemeral key. */
export async function freshLog(deps: Partial<AuditLogDeps> = {}): Promise<TestLog> {
  const { redis, url } = await freshRedis();
  const signer = deps.signer ?? ephemeralSigner("test-key");
  const log = createAuditLog({
    redis,
    signer,
    software: { version: "0.0.0-test", commit: "test" },
    ...deps,
  });
  opened.unshift({ close: () => log.close() });
  return { redis, url, log, signer };
}

export const operator = { kind: "cli" as const, name: "tester@server" };

export function info(
  caseId: string,
  op: string,
  params: Record<string, unknown> = {},
): AuditEntryInput {
  return {
    case: caseId,
    actor: operator,
    op,
    phase: "info",
    params,
    authority: "order 1/25",
    purpose: "test",
  };
}

export async function appendSome(log: AuditLog, caseId: string, n: number): Promise<void> {
  await log.recordMany(Array.from({ length: n }, (_, i) => info(caseId, "warn", { i })));
}

export { verifierOf };
