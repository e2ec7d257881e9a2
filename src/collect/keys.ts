/**
 * The keys of what Warden collects, declared with every other key in the
 * registry (src/store/layout/collect.ts) and re-exported here for src/collect.
 */
export { casePrefix, collectKeys, collectParts } from "../store/keys.ts";
