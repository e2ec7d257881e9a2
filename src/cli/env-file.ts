import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * The settings file `.env.example` describes: `.env` in the working
 * directory, read with Node's own `process.loadEnvFile` before the
 * configuration is parsed. What the environment already holds wins, so a
 * variable set for one command overrides the file. `WARDEN_ENV_FILE` names
 * another file, or `none` for no file at all (the tests use that, so a
 * developer's `.env` can never point them at a live Redis).
 *
 * Returns the file read, for the one line that says so, or undefined.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.WARDEN_ENV_FILE;
  if (named === "none") return undefined;
  const path = resolve(named ?? ".env");
  if (!existsSync(path)) {
    if (named !== undefined)
      throw new Error(
        `WARDEN_ENV_FILE names ${path}, which does not exist: fix the path, or set WARDEN_ENV_FILE=none`,
      );
    return undefined;
  }
  process.loadEnvFile(path);
  return path;
}
