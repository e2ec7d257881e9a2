import { benchAudit } from "./audit.ts";
import { benchCollect } from "./collect.ts";
import { benchConsole } from "./console.ts";
import { benchDetector } from "./detector.ts";
import { benchFailover } from "./failover.ts";
import { benchRegex } from "./regex.ts";
import { benchScenario } from "./scenario.ts";
import { benchSimulator } from "./sim.ts";
import { benchTakeover } from "./takeover.ts";

/**
 * `npm run bench`: every benchmark, each printing its figures next to a
 * baseline measured in the same run. Name some to run only those:
 * `npm run bench -- audit takeover`.
 */
const all: Record<string, () => Promise<void>> = {
  audit: benchAudit,
  sim: benchSimulator,
  takeover: benchTakeover,
  detector: benchDetector,
  collect: benchCollect,
  scenario: benchScenario,
  regex: benchRegex,
  failover: benchFailover,
  console: benchConsole,
};

const chosen = process.argv.slice(2).filter((a) => a !== "--");
for (const name of chosen.length ? chosen : Object.keys(all)) {
  const bench = all[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}": choose from ${Object.keys(all).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  await bench();
}
