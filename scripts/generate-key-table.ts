import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withKeyTable } from "../src/store/layout/table.ts";

/**
 * Writes the "Redis key layout" table of README.md from the key registry in src/store/layout/.
 * Run after declaring or changing a key shape: `npx tsx scripts/generate-key-table.ts`.
 */
const target = fileURLToPath(new URL("../README.md", import.meta.url));
writeFileSync(target, withKeyTable(readFileSync(target, "utf8")));
console.log(`wrote the key table of ${target}`);
