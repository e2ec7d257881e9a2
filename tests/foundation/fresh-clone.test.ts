/**
 * The README's Quick start, literally: on a fresh clone, `npm start` is the
 * first command typed, with no node_modules and no configuration. It must
 * install what the lock file says by itself (without engine warnings on
 * Node 20) and then rehearse the shipped scenario to a verified audit log.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "warden-clone-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a fresh clone", () => {
  it("runs `npm start` as its first command: installs, rehearses, verifies", async () => {
    const clone = join(dir, "warden");
    const cloned = spawnSync("git", ["clone", "--quiet", "--no-hardlinks", repo, clone]);
    expect(cloned.status, cloned.stderr?.toString()).toBe(0);
    expect(existsSync(join(clone, "node_modules"))).toBe(false);

    const start = await run("npm", ["start"], clone);
    expect(start.code, start.stderr.slice(-2000)).toBe(0);
    expect(start.stderr).toContain("first run on this checkout: installing");
    expect(start.stderr).not.toContain("EBADENGINE");
    expect(start.stdout).toMatch(/warden audit verify: intact \(\d+ entries in case /);

    // The second time there is nothing to install.
    const again = await run("node", ["scripts/ensure-installed.mjs"], clone);
    expect(again).toMatchObject({ code: 0, stderr: "" });
  }, 600_000);
});
