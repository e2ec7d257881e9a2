import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `warden` executable with a clean environment plus `env`. */
export function runWarden(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliResult> {
  return spawnWarden(undefined, args, env, input);
}

/** Runs `warden` in `cwd`, reading the `.env` there as a person's shell would. */
export function runWardenIn(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const { WARDEN_ENV_FILE: _none, ...rest } = env;
  return spawnWarden(cwd, args, rest, undefined, true);
}

function spawnWarden(
  cwd: string | undefined,
  args: string[],
  env: Record<string, string>,
  input: string | undefined,
  readEnvFile = false,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      ...(cwd ? { cwd } : {}),
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        LOG_LEVEL: "warn",
        // Never a developer's .env: it could point the tests at a live Redis.
        ...(readEnvFile ? {} : { WARDEN_ENV_FILE: "none" }),
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}
