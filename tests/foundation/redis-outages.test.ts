import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.ts";
import { connectRedis } from "../../src/store/redis.ts";
import { keyCounts, liveEnv, type OwnServer, SLOW } from "../helpers/redis-trust.ts";
import { eventually } from "../helpers/warden.ts";
import { startRedisServer } from "../setup/redis-server.ts";

/**
 * Redis going away, or coming back as something Warden cannot use, once a
 * command or the bot is running: one line, never a write to another database.
 */

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));

describe("Redis going away", { timeout: SLOW }, () => {
  let server: OwnServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("back on a server without the database: refused on the reconnect, nothing written to database 0", async () => {
    const first = await startRedisServer();
    server = first;
    const logged: string[] = [];
    const logger = {
      warn: (_: object, msg: string) => logged.push(msg),
      error: (_: object, msg: string) => logged.push(msg),
    };
    const connection = await connectRedis({
      url: `${first.url}/20`,
      logger,
      // Keep the command below queued across the outage, whatever the reconnects take.
      options: { maxRetriesPerRequest: null },
    });
    try {
      await connection.redis.set("before", "1");
      await first.stop();
      await eventually(() => connection.redis.status !== "ready");
      const queued = connection.redis.set("queued", "1");
      queued.catch(() => undefined);
      server = await startRedisServer(["--databases", "16"], first.port);
      await expect(queued).rejects.toThrow();
      expect(logged.find((m) => m.includes("has no database 20"))).toMatch(
        /^Redis at redis:\/\/127\.0\.0\.1:\d+\/20 has no database 20/,
      );
      await expect(connection.redis.set("after", "1")).rejects.toThrow();
      expect(await keyCounts(first.port)).toBe("# Keyspace");
    } finally {
      await connection.close();
    }
  });
});

describe("the live bot, when Redis comes back without its database", { timeout: SLOW }, () => {
  let sim: RunningSimulator | undefined;
  let child: ChildProcess | undefined;
  let server: OwnServer | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await sim?.close();
    await server?.stop();
  });

  it("stops with exit 2 and the reason, and writes nothing to database 0", async () => {
    sim = await startSimulator({ rateLimits: false });
    const { token } = await sim.control.createBot({ username: "warden_bot" });
    const first = await startRedisServer();
    server = first;
    const env = await liveEnv(`${first.url}/20`);
    child = spawn(process.execPath, [bin, "start"], {
      env: {
        PATH: process.env.PATH ?? "",
        ...env,
        BOT_TOKEN: token,
        TELEGRAM_API_ROOT: sim.apiRoot,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout?.resume();
    const exited = new Promise<number | null>((resolve) => child?.once("exit", resolve));
    await eventually(() => stderr.includes("Warden is running live"), 20_000);
    await first.stop();
    server = await startRedisServer(["--databases", "16"], first.port);
    expect(await exited).toBe(2);
    const last = stderr.trim().split("\n").at(-1);
    expect(last).toMatch(/^warden: Redis at redis:\/\/127\.0\.0\.1:\d+\/20 has no database 20/);
    expect(stderr).not.toContain(token);
    expect(await keyCounts(first.port)).toBe("# Keyspace");
  });
});

describe("a Redis busy for a while", { timeout: SLOW }, () => {
  let server: OwnServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("is waited for, not taken for a refusal, and the connection lands in its database", async () => {
    server = await startRedisServer(["--busy-reply-threshold", "10"]);
    const admin = new Redis(server.url);
    const busy = new Redis(server.url);
    const stuck = busy.eval("while true do end", 0).catch((e: Error) => e);
    // While the script runs, everything but SCRIPT KILL is answered BUSY.
    await eventually(() =>
      admin.ping().then(
        () => false,
        (e: Error) => e.message.startsWith("BUSY"),
      ),
    );
    let reconnects = 0;
    const connecting = connectRedis({
      url: `${server.url}/3`,
      connectTimeoutMs: 20_000,
      options: {
        retryStrategy: () => {
          reconnects++;
          return 20;
        },
      },
    });
    // Warden has met the busy server and is trying again: now let the script go.
    await eventually(() => reconnects > 0);
    await admin.call("SCRIPT", "KILL");
    await stuck;
    const connection = await connecting;
    await connection.redis.set("k", "v");
    await connection.close();
    expect(await admin.info("commandstats")).toMatch(/cmdstat_select:.*rejected_calls=[1-9]/);
    expect(await keyCounts(server.port)).toMatch(/^# Keyspace\r?\ndb3:keys=1,[^\n]*$/);
    admin.disconnect();
    busy.disconnect();
  });
});
