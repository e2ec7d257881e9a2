import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { scenarioJsonSchema } from "../src/scenario/definition/json-schema.ts";

/**
 * Writes scenarios/schema.json from the scenario schema in src/scenario/definition/schema.ts.
 * Run after changing the schema: `npx tsx scripts/generate-scenario-schema.ts`.
 */
const target = fileURLToPath(new URL("../scenarios/schema.json", import.meta.url));
writeFileSync(target, scenarioJsonSchema());
console.log(`wrote ${target}`);
