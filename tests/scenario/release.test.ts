/**
 * What release does to members a scenario restricted: with
 * `release: {lift_restrictions: true}` their restrictions are lifted after
 * the thaw, each on the record, while the run's bans and restrictions that
 * were there before the run stay; with `release: true` everything stays.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatSnapshot } from "../../src/sim/index.ts";
import { type Staged, stageRehearsal } from "./helpers.ts";

const fixture = new URL("./fixtures/releasing.yaml", import.meta.url).pathname;

let s: Staged | undefined;
afterEach(async () => {
  await s?.r.close();
  s = undefined;
});

async function rehearse(scenario: string): Promise<{ s: Staged; group: ChatSnapshot }> {
  s = await stageRehearsal({ scenario });
  await s.r.operatorSays("/scenario start releasing fw1");
  await s.r.runUntilDone("fw1");
  const group = await s.r.control.chat(s.r.aliases.fw1 as number);
  const result = await s.r.finish("fw1");
  expect(result, s.lines.join("\n")).toMatchObject({ ok: true, runStatus: "finished" });
  return { s, group };
}

function statusOf(group: ChatSnapshot, userId: number | undefined): string | undefined {
  return group.members.find((m) => m.user?.id === userId)?.status;
}

describe("release", () => {
  it("lifts the restrictions the run put on members when asked, and nothing else", async () => {
    const { s, group } = await rehearse(fixture);
    const u = s.r.users;
    // Muted for their offers during the run, free again after the release.
    for (const seller of ["bram", "sarah", "liam"])
      expect(statusOf(group, u[seller]), seller).toBe("member");
    expect(s.lines).toContain(
      "[12-27 20:00] Warden lifts the restrictions on Bram Visser in group fw1",
    );
    // Banned by the run: a ban is not lifted. Restricted before the run: not the run's to lift.
    expect(statusOf(group, u.chris)).toBe("kicked");
    expect(statusOf(group, u.jordy)).toBe("restricted");
    const entries = await s.entries();
    const lifted = entries.filter(
      (e) => e.op === "release" && e.phase === "intent" && e.params?.step === "unrestrict",
    );
    expect(lifted.map((e) => e.target?.user_ids?.[0]).sort()).toEqual(
      [u.bram, u.sarah, u.liam].sort(),
    );
    const step = entries.find((e) => e.op === "scenario.step" && e.params?.kind === "release");
    expect(step?.params).toMatchObject({
      lift_restrictions: true,
      unrestricted: expect.arrayContaining([u.bram, u.sarah, u.liam]),
    });
  }, 60_000);

  it("keeps every restriction and ban with release: true", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-release-"));
    const plain = join(dir, "releasing.yaml");
    writeFileSync(
      plain,
      readFileSync(fixture, "utf8").replace(
        "release: { lift_restrictions: true }",
        "release: true",
      ),
    );
    const { s, group } = await rehearse(plain);
    const u = s.r.users;
    for (const seller of ["bram", "sarah", "liam"])
      expect(statusOf(group, u[seller]), seller).toBe("restricted");
    expect(statusOf(group, u.chris)).toBe("kicked");
    expect(s.lines.some((l) => l.includes("lifts the restrictions"))).toBe(false);
  }, 60_000);
});
