import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { addChat, addRole, createCase, setControlRoom } from "../../src/actions/case-changes.ts";
import { writeKeyFiles } from "../../src/audit/checkpoint.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { INTAKE_PARTITIONS } from "../../src/bot/intake/queue.ts";
import { type RunningSimulator, startSimulator, type TgUser } from "../../src/sim/index.ts";
import { collectKeys, intakeKeys } from "../../src/store/keys.ts";
import { auditEntries } from "./audit.ts";
import { freshRedisUrl } from "./redis.ts";

/**
 * A seized group on the simulator and a real Redis with its case, for tests
 * that run `warden start` as a child process (live mode, polling or webhook)
 * and stop it with a signal.
 */

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));

export interface LiveStage {
  sim: RunningSimulator;
  token: string;
  botUser: TgUser;
  operator: TgUser;
  alice: TgUser;
  bob: TgUser;
  group: number;
  /** The case's control room, where the bot answers the operator. */
  room: number;
  caseId: string;
  redisUrl: string;
  /** The test's own connection, to read what Warden kept. */
  redis: Redis;
  /** The environment of a live `warden start` against this stage. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLiveStage(): Promise<LiveStage> {
  const sim = await startSimulator({ rateLimits: false });
  const c = sim.control;
  const { token, user: botUser } = await c.createBot({ username: "warden_bot" });
  const owner = await c.createUser({ first_name: "Johan" });
  const operator = await c.createUser({ first_name: "Duty" });
  const alice = await c.createUser({ first_name: "Alice", username: "alice_nl" });
  const bob = await c.createUser({ first_name: "Bob", username: "bob_cobra" });
  const { id: group } = await c.createChat({
    type: "supergroup",
    title: "Vuurwerk Deals NL",
    owner_id: owner.id,
  });
  for (const u of [alice, bob, operator]) await c.join(group, u.id);
  await c.promote(group, botUser.id, "all");
  const { id: room } = await c.createChat({
    type: "supergroup",
    title: "Control room",
    owner_id: operator.id,
  });
  await c.join(room, botUser.id);

  const redisUrl = await freshRedisUrl();
  const redis = new Redis(redisUrl);
  const audit = createAuditLog({ redis });
  const caseId = "op-fw";
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
  await createCase(deps, {
    id: caseId,
    title: "Vuurwerkgroepen",
    authority: "OM-2026-0142",
    purpose: "stop trade",
    retentionDays: 30,
  });
  await addRole(deps, caseId, { userId: operator.id, role: "operator", name: "Duty officer" });
  await addChat(deps, caseId, { chatId: group, alias: "fw1" });
  await setControlRoom(deps, caseId, room);
  await audit.close();

  const key = join(mkdtempSync(join(tmpdir(), "warden-key-")), "audit.key");
  writeKeyFiles(key, "warden-test");
  return {
    sim,
    token,
    botUser,
    operator,
    alice,
    bob,
    group,
    room,
    caseId,
    redisUrl,
    redis,
    env: {
      BOT_TOKEN: token,
      REDIS_URL: redisUrl,
      TELEGRAM_API_ROOT: sim.apiRoot,
      WARDEN_AUDIT_KEY: key,
      LOG_LEVEL: "info",
    },
    async close() {
      redis.disconnect();
      await sim.close();
    },
  };
}

export interface StartedWarden {
  child: ChildProcess;
  /** Everything it wrote, stdout and stderr. */
  logs(): string;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` and resolves with the exit code, or rejects after `boundMs`. */
  stop(signal: NodeJS.Signals, boundMs: number): Promise<number | null>;
}

const started: StartedWarden[] = [];

/** Spawns `warden start` with a clean environment plus `env`. */
export function spawnStart(env: Record<string, string>): StartedWarden {
  const child = spawn(process.execPath, [bin, "start"], {
    env: { PATH: process.env.PATH ?? "", WARDEN_ENV_FILE: "none", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  child.stdout?.on("data", (d: Buffer) => {
    logs += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    logs += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  const handle: StartedWarden = {
    child,
    logs: () => logs,
    exited,
    async stop(signal, boundMs) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `warden start did not exit within ${boundMs} ms of ${signal}; its last lines:\n${logs.split("\n").slice(-15).join("\n")}`,
              ),
            ),
          boundMs,
        );
      });
      try {
        return await Promise.race([exited, bound]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  started.push(handle);
  return handle;
}

/** Kills every `warden start` this file spawned that is still running (afterEach). */
export function killStarted(): void {
  for (const s of started.splice(0)) if (s.child.exitCode === null) s.child.kill("SIGKILL");
}

/**
 * What Warden kept of Alice's and Bob's messages in the group: their message ids,
 * the per-member text counters (bumped once per persisted message, so a message
 * persisted twice would count twice), and how often each update id appears in
 * the audit log's `collect` entries.
 */
export async function keptMessages(stage: LiveStage): Promise<{
  messages: number;
  counted: number;
  collected: Map<number, number>;
}> {
  const { redis, caseId, group } = stage;
  let messages = 0;
  let counted = 0;
  for (const member of [stage.alice, stage.bob]) {
    messages += await redis.zcard(collectKeys.messagesFrom(caseId, group, member.id));
    counted += Number(
      (await redis.hget(collectKeys.member(caseId, member.id), "count:text")) ?? "0",
    );
  }
  const collected = new Map<number, number>();
  for (const entry of await auditEntries(redis, caseId)) {
    if (entry.op !== "collect") continue;
    for (const id of (entry as { update_ids?: number[] }).update_ids ?? [])
      collected.set(id, (collected.get(id) ?? 0) + 1);
  }
  return { messages, counted, collected };
}

/**
 * A loopback TCP proxy to a Redis: `cut()` hangs up every connection and stops
 * listening (Redis gone, its data intact), `restore()` listens again on the
 * same port.
 */
export async function redisProxy(target: string): Promise<{
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(t.port), t.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await listen(0);
  const cut = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  return {
    url: `redis://127.0.0.1:${port}${t.pathname}`,
    cut,
    restore: async () => {
      await listen(port);
    },
    close: async () => {
      if (server.listening) await cut();
    },
  };
}

/** How many updates the webhook's intake queue still holds, over all its partitions. */
export async function intakeLength(redis: Redis): Promise<number> {
  let total = 0;
  for (let part = 0; part < INTAKE_PARTITIONS; part++)
    total += await redis.xlen(intakeKeys.updates(part));
  return total;
}
