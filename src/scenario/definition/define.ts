import type { ScenarioInput } from "./schema.ts";

/**
 * For scenarios written in TypeScript: `export default defineScenario({…})`.
 * It returns its argument unchanged, so a TypeScript scenario is the same
 * object its YAML form would be; it exists for the editor's type checking and
 * completion. The loader validates it with the same schema as YAML.
 */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}
