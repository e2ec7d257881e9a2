/**
 * The two prefixes every Warden key starts with. A case's keys start with
 * `warden:{<caseId>}:`: the braces are a Redis Cluster hash tag, so all of a
 * case's keys hash to one slot and one MULTI or Lua script may touch any of
 * them, today on one server and later on a cluster. Keys that belong to no
 * case start with `warden:global:`.
 */

/** Case ids are slugs: they appear inside keys and file names, so no braces, colons or spaces. */
export const CASE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const GLOBAL_PREFIX = "warden:global:";

export function assertCaseId(caseId: string): void {
  if (!CASE_ID_PATTERN.test(caseId)) {
    throw new Error(
      `case id "${caseId}" is not a slug: use 1-64 lower-case letters, digits and inner hyphens, e.g. op-fw`,
    );
  }
}

/** The case checked last and its prefix: the recorder builds many keys of one case per update. */
let lastCase = "";
let lastPrefix = "";

/** `warden:{<caseId>}:`, after checking the case id is a slug. */
export function casePrefix(caseId: string): string {
  if (caseId !== lastCase) {
    assertCaseId(caseId);
    lastCase = caseId;
    lastPrefix = `warden:{${caseId}}:`;
  }
  return lastPrefix;
}
