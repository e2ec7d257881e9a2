/**
 * The entries no erasure may touch, as data: `erase.ts` refuses them and the
 * verifier fails an erase entry that says it erased one.
 */

/**
 * Entries the verifier needs to reconstruct who could act and why: erasing them
 * would make the rest of the log unverifiable, and they hold no collected data.
 */
export const REGISTRY_OPS: ReadonlySet<string> = new Set([
  "role.add",
  "role.remove",
  "case.create",
  "case.close",
  "chat.add",
  "config",
  "erase",
  "checkpoint",
]);

/**
 * The log of who looked at collected data and to whom it was handed (LED
 * Art. 25): it is the data subject's and the supervisory authority's evidence
 * of access, so no retention erases it, whatever the case's retention says.
 */
export const ACCESS_OPS: ReadonlySet<string> = new Set(["consult", "disclose"]);

/** Every op whose entries are never erased: the registry and the log of access. */
export const UNERASABLE_OPS: ReadonlySet<string> = new Set([...REGISTRY_OPS, ...ACCESS_OPS]);

/** Why an entry of `op` cannot be erased, in words for the person who asked. */
export function whyUnerasable(op: string): string {
  return ACCESS_OPS.has(op)
    ? "the log of consultation and disclosure is kept whatever the retention (LED Art. 25)"
    : "the verifier needs it to check the rest of the log";
}
