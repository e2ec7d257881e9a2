/**
 * Long verifications and exports show how far they are on a terminal, and
 * nothing when their output goes to a pipe or a file. Driven through the
 * real `warden` CLI under a pseudo-terminal (`script`, from util-linux).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));

function onTerminal(args: string[], env: Record<string, string>): string {
  const command = ["node", bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const run = spawnSync("script", ["-qfec", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", WARDEN_ENV_FILE: "none", LOG_LEVEL: "warn", ...env },
    encoding: "utf8",
  });
  return run.stdout;
}

describe("progress of long reads of a log", () => {
  it("is drawn on a terminal while verifying and exporting, and not into a pipe", async () => {
    const env = { REDIS_URL: await freshRedisUrl() };
    const create = await runWarden(
      [
        "case",
        "create",
        "op-progress",
        "--title",
        "t",
        "--authority",
        "a",
        "--purpose",
        "p",
        "--retention-days",
        "30",
      ],
      env,
    );
    expect(create.code).toBe(0);

    const shown = onTerminal(["audit", "verify", "--case", "op-progress"], env);
    expect(shown).toContain("verifying the log of case op-progress: 1 of 1 entries");
    expect(shown).toContain("\x1b[K");
    expect(shown).toMatch(/intact/i);

    const out = join(mkdtempSync(join(tmpdir(), "warden-progress-")), "bundle");
    const exported = onTerminal(
      ["audit", "export", "--case", "op-progress", "--out", out, "--justification", "a check"],
      env,
    );
    expect(exported).toMatch(/exporting the log of case op-progress: \d of \d entries/);

    const piped = await runWarden(["audit", "verify", "--case", "op-progress"], env);
    expect(piped.stderr).not.toContain("verifying the log");
    expect(piped.stdout).not.toContain("\x1b[K");
  });
});
