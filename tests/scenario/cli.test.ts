/**
 * `warden rehearse` and `npm start` as a user runs them: the real CLI in a
 * child process. A rehearsal ends with the audit log verified and the paths
 * of its export; it exits 1 when the bot lacks a right the scenario needs.
 * `warden start` without BOT_TOKEN rehearses the fireworks takeover on the
 * embedded Redis, with no configuration at all; its transcript is alone on
 * stdout (Warden's log goes to a file it names), explains the audit
 * numbering once, and keeps long lines whole.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
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
      "Duty officer (operator) writes in the control room: /scenario start covert-observe fw1",
    );
    expect(result.stdout).toMatch(
      /Warden writes in the control room: covert-observe · fw1: offer by Bram Visser/,
    );
    expect(result.stdout).toMatch(
      /audit #\d+ Duty officer started the scenario in group fw1 as run fw1-[0-9a-f]{8} \[scenario\.start\]/,
    );
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
    // At info level Warden logs every message the trade freeze removes: none of it may reach stdout.
    const result = await runWarden(["start"], { WARDEN_DATA_DIR: dataDir, LOG_LEVEL: "info" });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(result.stdout).toContain("Rehearsing fireworks-takeover on fw1");
    expect(result.stdout).toContain("What members of fw1 see at the end:");
    expect(result.stdout).toContain("title: Deze groep is overgenomen door de politie");
    expect(lines).toContain(
      "  pinned: Warden's message “⚠️ Deze groep is overgenomen door de politie.”",
    );
    expect(lines).toContain(
      "  members may send anything; they may also react to messages and invite people",
    );
    expect(result.stdout).toContain("The scenario run: finished");
    expect(result.stdout).toMatch(/warden audit verify: intact/);

    // The transcript alone on stdout, and on stderr no log line either: Warden's log is in a file,
    // which the transcript names in its first lines and counts at its end.
    const json = /^\s*\{.*"level":/;
    expect(lines.filter((l) => json.test(l))).toEqual([]);
    expect(result.stderr.split("\n").filter((l) => json.test(l))).toEqual([]);
    const firstStamped = lines.findIndex((l) => /^\[\d\d-\d\d \d\d:\d\d\]/.test(l));
    const named = lines.findIndex((l) => l.startsWith("Warden's own log goes to "));
    expect(named).toBeGreaterThan(-1);
    expect(named).toBeLessThan(firstStamped);
    const logPath = /^Warden's own log goes to (\S+), not here\.$/.exec(
      lines[named] as string,
    )?.[1];
    expect(logPath?.startsWith(join(dataDir, "rehearsals"))).toBe(true);
    const log = readFileSync(logPath as string, "utf8");
    expect(log).toContain('"msg":"trade freeze: removed a message"');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^Warden's log: ${logPath} \\(\\d+ lines: `)),
    );

    // The audit numbering explained once, before the first entry.
    const legend = lines.filter((l) => l.startsWith("audit #n: "));
    expect(legend).toEqual([
      "audit #n: the entry's number in the case's audit log, under what it records. Only outcomes, decisions and evidence kept are shown; the intent written before each call to Telegram and the recorder's collection entries are in the log too, so the numbers skip.",
    ]);
    expect(lines.indexOf(legend[0] as string)).toBeLessThan(
      lines.findIndex((l) => /^ +audit #\d+ /.test(l)),
    );

    // Long lines whole: the run's status message, once cut at its run id, is there to its end.
    expect(result.stdout).toMatch(
      /^ +started fireworks-takeover v1 \([0-9a-f]{12}\) on fw1 as run fw1-[0-9a-f]{8}$/m,
    );
    expect(result.stdout).toMatch(
      /^ +phase 2\/3 hold, triggers: offers, helpdesk, knock, leavers$/m,
    );
  }, 90_000);
});
