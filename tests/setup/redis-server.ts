import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Starts one private redis-server on a free loopback port for the whole test
 * run and stops it afterwards. Tests get its URL through `inject("redisUrl")`
 * and each takes a database of its own (see tests/helpers/redis.ts).
 */

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    redisServerBin: string;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/** Starts redis-server with the given extra arguments; resolves once it accepts connections. */
export async function startRedisServer(
  extra: string[] = [],
  port?: number,
): Promise<{
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}> {
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "warden-redis-"));
  const child = spawn(
    bin,
    [
      "--port",
      String(chosen),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--databases",
      "4096",
      "--dir",
      dir,
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("error", (err) =>
      reject(
        new Error(
          `could not start ${bin}: ${err.message}; run \`npm test\` (its pretest installs redis-server)`,
        ),
      ),
    );
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    dir,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          rmSync(dir, { recursive: true, force: true });
          resolve();
          return;
        }
        child.once("exit", () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

export default async function setup(project: TestProject) {
  const server = await startRedisServer();
  project.provide("redisUrl", server.url);
  project.provide("redisServerBin", process.env.REDIS_SERVER_BIN ?? "redis-server");
  return async () => {
    await server.stop();
  };
}
