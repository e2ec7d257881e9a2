/**
 * A world's `start:` may be an ISO date or Unix seconds, as the simulator
 * accepts both; the rehearsal's script (what members do besides the
 * timeline) counts its `at:` seconds from it either way.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stageRehearsal } from "./helpers.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;

describe("a world that starts at Unix seconds", () => {
  it("plays its script at the seconds given", async () => {
    const world = readFileSync(`${fixtures}worlds/two-groups.yaml`, "utf8")
      .replace(/^start: .*$/m, "start: 1800000000")
      .replace(
        "rehearsal:",
        ["rehearsal:", "  script:", '    - { at: 120, private: kees, text: "wie is dit" }'].join(
          "\n",
        ),
      );
    const dir = mkdtempSync(join(tmpdir(), "warden-world-start-"));
    writeFileSync(join(dir, "two-groups.yaml"), world);
    const s = await stageRehearsal({
      worldPath: join(dir, "two-groups.yaml"),
      scenariosDir: fixtures,
      scenario: "pausable",
    });
    try {
      await s.r.advanceTo(1_800_000_000_000 + 300_000);
      await s.r.settle();
      await s.r.flush();
      const line = s.lines.find((l) => l.includes("wie is dit"));
      // 1800000000 is 2027-01-15T08:00:00Z: the script's message two minutes later.
      expect(line).toMatch(/^\[01-15 08:02\] Kees writes to Warden: wie is dit$/);
    } finally {
      await s.r.close();
    }
  });
});
