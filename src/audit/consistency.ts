import {
  appendLeafHex,
  EMPTY_ROOT,
  emptyHexFrontier,
  type HexFrontier,
  hexFrontierRoot,
  nodeHash,
  rangeRoot,
  splitPoint,
} from "./merkle.ts";

/**
 * RFC 6962 §2.1.2 consistency proofs: that the tree of the first m leaves is
 * a prefix of the tree of the first n, so nothing among the first m was
 * changed, removed or reordered when the log grew to n. A witness holds the
 * root of the largest tree it cosigned and, before cosigning a larger one,
 * checks a proof from the old root to the new one: this is how an insider
 * who holds the log's signing key is still caught rewriting history.
 *
 * The proof is the list of roots of a few subtrees (O(log n) of them), each
 * the root of a range of leaves; `consistencyRanges` says which ranges, and
 * `proveConsistency` computes their roots in one pass over the leaves, in
 * constant memory, however long the log.
 */

/**
 * The [from, to) leaf ranges whose roots form the proof between sizes m and
 * n, in proof order (RFC 6962 SUBPROOF, the deepest node first). Empty when
 * m is 0 or m = n: the empty tree is a prefix of any tree, and a tree is
 * consistent with itself when the roots agree.
 */
export function consistencyRanges(m: number, n: number): [number, number][] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) {
    throw new RangeError(`a consistency proof needs 0 ≤ m ≤ n, got m=${m}, n=${n}`);
  }
  const ranges: [number, number][] = [];
  // SUBPROOF(size, D[from:to], complete): `complete` while the old tree is still a whole
  // subtree of the new one, in which case its root is not part of the proof.
  const sub = (from: number, to: number, size: number, complete: boolean): void => {
    const count = to - from;
    if (size === count) {
      if (!complete) ranges.push([from, to]);
      return;
    }
    const k = splitPoint(count);
    if (size <= k) {
      sub(from, from + k, size, complete);
      ranges.push([from + k, to]);
    } else {
      sub(from + k, to, size - k, false);
      ranges.push([from, from + k]);
    }
  };
  if (m > 0 && m < n) sub(0, n, m, true);
  return ranges;
}

/** The proof between sizes m and n of the leaves, in memory: for tests and small trees. */
export function consistencyProof(leaves: readonly Buffer[], m: number): Buffer[] {
  return consistencyRanges(m, leaves.length).map(([from, to]) => rangeRoot(leaves, from, to));
}

/** A proof with the two roots it joins, as computed from the leaves themselves. */
export interface ProvenConsistency {
  proof: Buffer[];
  /** Root of the first m leaves. */
  oldRoot: Buffer;
  /** Root of the first n leaves. */
  newRoot: Buffer;
}

const HEX_LEAF = /^[0-9a-f]{64}$/;

/**
 * The proof between sizes m and n, from the log's leaf hashes (hex) in order,
 * read once: each leaf goes into the one proof range it falls in (the ranges
 * do not overlap), and into the whole tree, whose root is taken at m and at
 * n. Leaves past n are not read. Throws if there are fewer than n.
 */
export async function proveConsistency(
  leaves: AsyncIterable<string> | Iterable<string>,
  m: number,
  n: number,
): Promise<ProvenConsistency> {
  const ranges = consistencyRanges(m, n);
  const byStart = ranges
    .map((range, at) => ({ range, at }))
    .sort((a, b) => a.range[0] - b.range[0]);
  const frontiers: HexFrontier[] = ranges.map(() => emptyHexFrontier());
  const tree = emptyHexFrontier();
  let oldRoot = m === 0 ? EMPTY_ROOT : undefined;
  let next = 0;
  let i = 0;
  for await (const leaf of leaves) {
    if (i === n) break;
    if (!HEX_LEAF.test(leaf))
      throw new Error(`leaf ${i + 1} is not a 64-digit hex hash: the stored log is damaged`);
    appendLeafHex(tree, leaf);
    while (next < byStart.length && (byStart[next]?.range[1] as number) <= i) next++;
    const current = byStart[next];
    if (current && current.range[0] <= i) appendLeafHex(frontiers[current.at] as HexFrontier, leaf);
    i++;
    if (i === m) oldRoot = hexFrontierRoot(tree);
  }
  if (i < n || !oldRoot) {
    throw new Error(`the log holds ${i} entries, fewer than the ${n} a proof to size ${n} needs`);
  }
  return { proof: frontiers.map(hexFrontierRoot), oldRoot, newRoot: hexFrontierRoot(tree) };
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows the tree of size m with root
 * `oldRoot` to be a prefix of the tree of size n with root `newRoot`. Both
 * roots are rebuilt from the proof alone, walking from the last leaf of the
 * old tree up; any extra, missing or altered node, or a size that does not
 * fit, makes one of them come out different.
 */
export function verifyConsistency(
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (m === n) return proof.length === 0 && Buffer.compare(oldRoot, newRoot) === 0;
  // The empty tree is a prefix of every tree; there is nothing to prove.
  if (m === 0) return proof.length === 0;
  // If m is a power of two, the old tree is a whole subtree of the new one and its root starts the path.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path;
  if (!first) return false;
  let fr: Uint8Array = first;
  let sr: Uint8Array = first;
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.compare(fr, oldRoot) === 0 && Buffer.compare(sr, newRoot) === 0;
}
