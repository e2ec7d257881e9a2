import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sourceFiles, violationsOf } from "../../scripts/check-layers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("the layers of src/", () => {
  it("has no import that points up the chain, out of the simulator, or from a definition into the runtime", () => {
    expect(sourceFiles(root).flatMap(violationsOf)).toEqual([]);
  });

  it("refuses an import that points up the chain", () => {
    const wrong = {
      path: "src/store/cases.ts",
      text: 'import { COMMANDS } from "../bot/features/command-specs.ts";\n',
    };
    expect(violationsOf(wrong)).toEqual([
      "src/store/cases.ts: imports src/bot/features/command-specs.ts (store is below bot: imports point down cli → bot → scenario → actions → collect → audit → store → base)",
    ]);
  });

  it("refuses Warden in the simulator, the simulator outside the CLI, and the runtime in a definition", () => {
    expect(
      violationsOf({
        path: "src/sim/simulator.ts",
        text: 'import type { X } from "../audit/entry.ts";',
      }),
    ).toHaveLength(1);
    expect(
      violationsOf({ path: "src/bot/create.ts", text: 'export { y } from "../sim/index.ts";' }),
    ).toHaveLength(1);
    expect(
      violationsOf({
        path: "src/scenario/definition/lint.ts",
        text: 'const m = await import("../runtime/engine.ts");',
      }),
    ).toHaveLength(1);
    expect(
      violationsOf({
        path: "src/cli/commands/sim.ts",
        text: 'import { s } from "../../sim/index.ts";',
      }),
    ).toEqual([]);
  });
});
