/**
 * `warden rehearse` and `npm start` as a user runs them: the real CLI in a
 * child process. A rehearsal ends with the audit log verified and the paths
 * of its export; it exits 1 when the bot lacks a right the scenario needs.
 * `warden start` without BOT_TOKEN rehearses the fireworks takeover on the
 * embedded Redis, with no configuration at all.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runWarden } from "../helpers/cli.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;

describe("warden rehearse", () => {
  it("rehearses a shipped scenario and ends with the verification and the export", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "warden-cli-"));
    const result = await runWarden(["rehearse", "covert-observe", "--fast", "--no-rate-limits"], {
      WARDEN_DATA_DIR: dataDir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "operator in the control room: /scenario start covert-observe fw1",
    );
    expect(result.stdout).toMatch(/control room sees: covert-observe · fw1: offer by Bram Visser/);
    expect(result.stdout).toMatch(/audit #\d+ scenario\.start ‹start›/);
    expect(result.stdout).toMatch(
      /warden audit verify: intact \(\d+ entries in case fw-rehearsal-/,
    );
    const bundle = /audit bundle: (\S+)/.exec(result.stdout)?.[1] as string;
    expect(bundle.startsWith(join(dataDir, "rehearsals"))).toBe(true);
    expect(existsSync(join(bundle, "report.html"))).toBe(true);
  }, 60_000);

  it("exits 1 when the bot lacks a right the scenario declares", async () => {
    const result = await runWarden(
      [
        "rehearse",
        `${fixtures}valid.yaml`,
        "--world",
        `${fixtures}worlds/no-pin.yaml`,
        "--fast",
        "--no-rate-limits",
      ],
      { WARDEN_DATA_DIR: mkdtempSync(join(tmpdir(), "warden-cli-")) },
    );
    expect(result.code).toBe(1);
    const [world, why] = result.stdout.split("\n");
    expect(world).toMatch(
      /^world: \S*tests\/scenario\/fixtures\/worlds\/no-pin\.yaml \(the group “Zonder pinnen”\)$/,
    );
    expect(why).toBe("  chosen because given with --world");
    expect(result.stdout).toContain(
      "valid-example was not started: the bot lacks can_pin_messages in g1; ask the owner account to grant it, then start again",
    );
    expect(result.stdout).toContain("missing admin rights: can_pin_messages");
    expect(result.stderr).toContain("warden: the bot lacked admin rights: can_pin_messages");
  }, 60_000);
});

describe("the world a scenario is rehearsed in", () => {
  it("is named first in the transcript, with why: a scenario naming none gets the default, and is told so", async () => {
    const result = await runWarden(
      ["rehearse", `${fixtures}valid.yaml`, "--fast", "--no-rate-limits"],
      { WARDEN_DATA_DIR: mkdtempSync(join(tmpdir(), "warden-cli-")) },
    );
    expect(result.code, result.stderr).toBe(0);
    const [world, why] = result.stdout.split("\n");
    expect(world).toMatch(
      /^world: scenarios\/worlds\/fireworks\.yaml \(Vuurwerk Deals NL, a fireworks trading group — About twenty members/,
    );
    expect(why).toBe(
      "  chosen because the default world: valid-example names no world and no world lists it; add world: <name> to the scenario (worlds are in scenarios/worlds)",
    );
  }, 60_000);
});

describe("npm start without configuration", () => {
  it("rehearses the fireworks takeover on the embedded Redis to a verified audit log", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "warden-start-"));
    const started = Date.now();
    const result = await runWarden(["start"], { WARDEN_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Rehearsing fireworks-takeover on fw1");
    expect(result.stdout).toContain("What members of fw1 see at the end:");
    expect(result.stdout).toContain("title: Deze groep is overgenomen door de politie");
    expect(result.stdout).toMatch(/^ {2}pinned: \d+$/m);
    expect(result.stdout).toMatch(/^ {2}may post: send_messages, send_audios, /m);
    expect(result.stdout).toContain("run: finished");
    expect(result.stdout).toMatch(/warden audit verify: intact/);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
