import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer as createNetServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.ts";
import { connectRedis } from "../../src/store/redis.ts";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { createCase, keyCounts, liveEnv, type OwnServer, SLOW } from "../helpers/redis-trust.ts";
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

  /**
   * A loopback proxy to the suite's server that lets a client connect (its
   * handshake ends with the PING of `connectRedis`), then, at the client's next
   * command, hangs up and stops listening: Redis gone mid-command.
   */
  async function vanishingProxy(): Promise<{ url: string; cut: Promise<void> }> {
    const target = new URL(inject("redisUrl"));
    let cutDone: () => void = () => undefined;
    const cut = new Promise<void>((resolve) => {
      cutDone = resolve;
    });
    const sockets: Socket[] = [];
    const proxy = createNetServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.push(client, upstream);
      let handshakeDone = false;
      client.on("data", (chunk: Buffer) => {
        if (handshakeDone) {
          proxy.close();
          for (const s of sockets) s.destroy();
          cutDone();
          return;
        }
        if (/\bping\b/i.test(chunk.toString())) handshakeDone = true;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => client.write(chunk));
      client.on("error", () => undefined);
      upstream.on("error", () => undefined);
    });
    const port = await new Promise<number>((resolve) => {
      proxy.listen(0, "127.0.0.1", () => resolve((proxy.address() as { port: number }).port));
    });
    return { url: `redis://127.0.0.1:${port}${new URL(await freshRedisUrl()).pathname}`, cut };
  }

  it("mid-command: one line, exit 1, for a read and for a change", async () => {
    for (const [args, said] of [
      [
        ["case", "list"],
        /^warden: lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+\/\d+ before the command finished: /,
      ],
      [createCase, /^warden: could not write to the audit log of case op-x /],
    ] as const) {
      const proxy = await vanishingProxy();
      const result = await runWarden([...args], { REDIS_URL: proxy.url, LOG_LEVEL: "info" });
      await proxy.cut;
      const lines = result.stderr.split("\n").filter((l) => l !== "");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(said);
      expect(result.code).toBe(1);
    }
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
        WARDEN_ENV_FILE: "none",
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
    // Should the test fail with the script still running, SIGTERM would not stop the server.
    server?.process.kill("SIGKILL");
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
