/**
 * Where scenario runs live in Redis, declared with every other key in the
 * registry (src/store/layout/scenario.ts) and re-exported here for the runtime.
 */
export { globalScenarioKeys, scenarioKeys } from "../../store/keys.ts";
