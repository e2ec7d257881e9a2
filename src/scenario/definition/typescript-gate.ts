/**
 * A TypeScript scenario is a module: reading it means importing it, which
 * runs whatever code it holds inside Warden's process, where the bot token
 * and the audit signing key are in reach. A YAML scenario is only data. So
 * Warden imports TypeScript scenarios only when the operator has turned them
 * on for scenarios they trust; otherwise a `.ts` file is reported as not
 * loaded, and never imported, whether it is linted, listed or started.
 */

export const TS_SCENARIOS_VARIABLE = "WARDEN_TS_SCENARIOS";

export interface ScenarioReadOptions {
  /** Import TypeScript scenarios (runs their code). Default: WARDEN_TS_SCENARIOS=1 in the environment. */
  typescript?: boolean;
}

/** Whether TypeScript scenarios may be imported: the option if given, else the environment. */
export function typeScriptAllowed(
  opts: ScenarioReadOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return opts.typescript ?? env[TS_SCENARIOS_VARIABLE] === "1";
}

export const TYPESCRIPT_OFF = {
  message:
    "TypeScript scenarios are off: this file was not loaded, because loading it would run its code",
  hint: `set ${TS_SCENARIOS_VARIABLE}=1 in Warden's environment to load TypeScript scenarios you trust, or write this one in YAML (the same fields)`,
};
