import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Private redis-server processes on loopback, for the test setup and for tests that need their own. */

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
  /** A directory to start in (a restarted cluster node's), kept at stop; default a fresh one, removed at stop. */
  keptDir?: string,
): Promise<{
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}> {
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const chosen = port ?? (await freePort());
  const dir = keptDir ?? mkdtempSync(join(tmpdir(), "warden-redis-"));
  const removeDir = () => {
    if (!keptDir) rmSync(dir, { recursive: true, force: true });
  };
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
        if (child.exitCode !== null || child.signalCode !== null) {
          removeDir();
          resolve();
          return;
        }
        child.once("exit", () => {
          removeDir();
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
