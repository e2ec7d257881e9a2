import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { worldJsonSchema } from "../src/cli/world-file.ts";

/**
 * Writes scenarios/worlds/schema.json from the world file schema in src/cli/world-file.ts.
 * Run after changing the schema: `npx tsx scripts/generate-world-schema.ts`.
 */
const target = fileURLToPath(new URL("../scenarios/worlds/schema.json", import.meta.url));
writeFileSync(target, worldJsonSchema());
console.log(`wrote ${target}`);
