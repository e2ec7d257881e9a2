import { z } from "zod";
import { scenarioSchema } from "./schema.ts";

/**
 * The JSON Schema editors use to complete and check scenario files
 * (`# yaml-language-server: $schema=./schema.json`), generated from the same
 * zod schema the loader validates with. `scripts/generate-scenario-schema.ts`
 * writes it to scenarios/schema.json; a test fails when that file is stale.
 */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { target: "draft-7", io: "input" });
  return `${JSON.stringify({ ...schema, title: "Warden scenario" }, null, 2)}\n`;
}
