import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Which Warden produced an entry: the package version and, when run from a checkout, the git commit. */
export interface Software {
  version: string;
  commit: string;
}

let cached: Software | undefined;

export function currentSoftware(): Software {
  if (cached) return cached;
  const pkgUrl = new URL("../../package.json", import.meta.url);
  const version = (JSON.parse(readFileSync(pkgUrl, "utf8")) as { version: string }).version;
  let commit = process.env.WARDEN_COMMIT ?? "unknown";
  if (commit === "unknown") {
    try {
      commit = execFileSync("git", ["rev-parse", "HEAD"], {
        cwd: new URL("../..", import.meta.url),
        stdio: ["ignore", "pipe", "ignore"],
      })
        .toString()
        .trim();
    } catch {
      // Not a checkout (e.g. a container image): WARDEN_COMMIT should be set at build time.
    }
  }
  cached = { version, commit };
  return cached;
}
