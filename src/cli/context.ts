import { userInfo } from "node:os";
import { loadSigner } from "../audit/checkpoint.ts";
import type { Actor } from "../audit/entry.ts";
import { type AuditLog, createAuditLog } from "../audit/record.ts";
import { connectRedis, type RedisConnection } from "../store/redis.ts";
import { waitForReplicasOf } from "../store/replicas.ts";
import { type Config, loadConfig, replicaWaitOf, secretsOf } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";

/**
 * What every CLI command gets: configuration, a logger, and a way to open the
 * store. Built once per process in `main.ts`; nothing here is a global.
 */
export interface CliContext {
  config: Config;
  logger: Logger;
  /** The person at the server's keyboard, recorded as the actor of CLI mutations. */
  actor: Actor;
  out(line: string): void;
  /**
   * Opens Redis and the audit log. `durable: true` refuses the embedded
   * in-process default, for commands whose results must outlive the process.
   */
  openStore(opts: { durable: boolean }): Promise<Store>;
  /** Closes whatever was opened. */
  close(): Promise<void>;
}

export interface Store {
  connection: RedisConnection;
  audit: AuditLog;
}

/** The user asked for something that cannot be done as asked: one line on stderr, exit 2. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function createCliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
  // CLI output goes to stdout; logs go to stderr so they never mix with a command's result.
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: secretsOf(config),
    destination: process.stderr,
    pretty: process.stderr.isTTY === true,
  });
  // Closed in reverse: the audit log (final checkpoint) before its connection.
  const opened: Array<{ close(): Promise<void> }> = [];
  return {
    config,
    logger,
    actor: { kind: "cli", name: safeUserName() },
    out: (line) => {
      process.stdout.write(`${line}\n`);
    },
    async openStore({ durable }) {
      if (durable && !config.REDIS_URL) {
        throw new CliError(
          "this command changes durable state and needs a real Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379), the embedded default keeps nothing",
        );
      }
      const connection = await connectRedis({
        url: config.REDIS_URL,
        mode: config.REDIS_MODE,
        logger,
        connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT * 1000,
        // A short command's own error says when the connection went.
        logConnectionLoss: false,
      });
      // Checkpoints are signed whenever a key is configured; without one the chain still grows.
      const signer = config.WARDEN_AUDIT_KEY ? loadSigner(config.WARDEN_AUDIT_KEY) : undefined;
      // With REDIS_WAIT_REPLICAS, a change is reported done, and consulted data shown, only once
      // the replicas hold its record: what the operator was told cannot be lost in a failover.
      const replicated = waitForReplicasOf(connection.redis, replicaWaitOf(config));
      const audit = createAuditLog({
        redis: connection.redis,
        ...(signer ? { signer } : {}),
        ...(replicated ? { replicated, replicatedEntries: "every-entry" as const } : {}),
      });
      opened.push({ close: () => audit.close() }, connection);
      return { connection, audit };
    },
    async close() {
      for (const item of opened.splice(0).reverse()) await item.close();
    },
  };
}

function safeUserName(): string {
  try {
    return `${userInfo().username}@server`;
  } catch {
    return "unknown@server";
  }
}
