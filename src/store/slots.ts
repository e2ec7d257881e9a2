/**
 * Which keys may share an atomic step. On a Redis Cluster a script, MULTI or
 * pipeline may only touch keys of one hash slot, and the cluster says so only
 * when the step runs there (CROSSSLOT, or "Script attempted to access keys
 * that do not hash to the same slot"). Warden's rule is stricter and checked
 * everywhere, on a single server too: the keys of one step carry the same hash
 * tag — a case's `{<case>}`, or a global group's own such as `{intake}` — so a
 * step that mixes a case's keys with `warden:global:*` ones fails in every test
 * run, not only on a cluster.
 */

/**
 * The part of a key Redis Cluster hashes: what is between the first `{` and
 * the next `}` when that is not empty, otherwise the whole key (Redis's rule).
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** A step whose keys would land in different slots of a cluster: a bug in Warden, not bad input. */
export class CrossSlotError extends Error {
  override name = "CrossSlotError";
}

/**
 * Throws unless every key hashes by the same tag. `what` names the step in
 * the message, which says what to do: global keys go in a step of their own,
 * ordered so that a crash between the two is repaired at start
 * (src/store/global-index.ts).
 */
export function assertOneSlot(what: string, keys: Iterable<string>): void {
  let first: string | undefined;
  let tag: string | undefined;
  for (const key of keys) {
    const t = hashTagOf(key);
    if (tag === undefined) {
      tag = t;
      first = key;
    } else if (t !== tag) {
      throw new CrossSlotError(
        `${what} touches ${first} and ${key}, which a Redis Cluster keeps in different slots: keep one atomic step to one case's keys, and write warden:global:* keys in a step of their own (see src/store/global-index.ts)`,
      );
    }
  }
}
