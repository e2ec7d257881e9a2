import { createHash, hash } from "node:crypto";

/**
 * RFC 6962 (Certificate Transparency) Merkle tree hashing. The log keeps only
 * the tree's right edge, the "compact range" or frontier: one node per set bit
 * of the tree size, so appending costs O(log n) and a restarted process carries
 * on from what Redis stored. Consistency proofs between two sizes of the
 * tree are in `consistency.ts`.
 */

/** SHA-256(0x00 ‖ entry bytes). The domain prefix stops a leaf from posing as an inner node. */
export function leafHash(entryBytes: string): Buffer {
  // One-shot hashing: a Hash object per leaf was a large share of append and verify time.
  return hash("sha256", `\u0000${entryBytes}`, "buffer");
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash("sha256", input, "buffer");
}

/** 0x00 ‖ entry bytes, for entries of up to 21,845 characters. Hashing is synchronous: no one else writes it meanwhile. */
const leafInput = Buffer.alloc(1 << 16);
leafInput[0] = 0;
/** Views of the first n bytes of `leafInput`, kept for the usual lengths so a leaf allocates no view. */
const leafViews: Buffer[] = [];
function leafView(n: number): Buffer {
  if (n > 4096) return leafInput.subarray(0, n);
  let view = leafViews[n];
  if (!view) {
    view = leafInput.subarray(0, n);
    leafViews[n] = view;
  }
  return view;
}

/**
 * The same two hashes on hex strings. Node's one-shot hash is about twice as
 * fast with a hex result as with a Buffer one, and the log stores and compares
 * hashes as hex anyway, so the append and verify paths keep the tree in hex.
 */
export function leafHashHex(entryBytes: string): string {
  // 0x00 and the UTF-8 bytes, written into one reused buffer: hashing `\u0000${entryBytes}`
  // flattened the concatenation first, garbage the size of the entry for every leaf.
  if (entryBytes.length * 3 + 1 > leafInput.length)
    return hash("sha256", `\u0000${entryBytes}`, "hex");
  const n = leafInput.write(entryBytes, 1) + 1;
  return hash("sha256", leafView(n), "hex");
}

/** One reusable input buffer: 0x01 ‖ left ‖ right. Hashing is synchronous, so nothing else can touch it meanwhile. */
const nodeInput = Buffer.alloc(65);

/** SHA-256(0x01 ‖ left ‖ right) of two 64-digit hex hashes, as hex. */
export function nodeHashHex(left: string, right: string): string {
  nodeInput[0] = 1;
  if (
    left.length !== 64 ||
    right.length !== 64 ||
    nodeInput.write(left, 1, 32, "hex") !== 32 ||
    nodeInput.write(right, 33, 32, "hex") !== 32
  )
    throw new Error("a Merkle node hash needs two 64-digit hex hashes");
  return hash("sha256", nodeInput, "hex");
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();

/**
 * The right edge of a tree of `size` leaves: the roots of its perfect subtrees,
 * largest (leftmost) first. `nodes.length` equals the number of set bits of `size`.
 */
export interface Frontier {
  size: number;
  nodes: Buffer[];
}

export function emptyFrontier(): Frontier {
  return { size: 0, nodes: [] };
}

/** Appends one leaf hash in place; like incrementing a binary counter, carries merge subtrees. */
export function appendLeaf(frontier: Frontier, leaf: Buffer): void {
  let carry = leaf;
  let size = frontier.size;
  while (size % 2 === 1) {
    const left = frontier.nodes.pop();
    if (!left) throw new Error("corrupt Merkle frontier: fewer nodes than set bits of its size");
    carry = nodeHash(left, carry);
    size = Math.floor(size / 2);
  }
  frontier.nodes.push(carry);
  frontier.size += 1;
}

export function cloneFrontier(frontier: Frontier): Frontier {
  return { size: frontier.size, nodes: frontier.nodes.slice() };
}

/** A frontier whose nodes are 64-digit hex strings: what the append and verify paths keep. */
export interface HexFrontier {
  size: number;
  nodes: string[];
}

export function emptyHexFrontier(): HexFrontier {
  return { size: 0, nodes: [] };
}

/** `appendLeaf` on hex nodes. */
export function appendLeafHex(frontier: HexFrontier, leaf: string): void {
  let carry = leaf;
  let size = frontier.size;
  while (size % 2 === 1) {
    const left = frontier.nodes.pop();
    if (left === undefined)
      throw new Error("corrupt Merkle frontier: fewer nodes than set bits of its size");
    carry = nodeHashHex(left, carry);
    size = Math.floor(size / 2);
  }
  frontier.nodes.push(carry);
  frontier.size += 1;
}

export function cloneHexFrontier(frontier: HexFrontier): HexFrontier {
  return { size: frontier.size, nodes: frontier.nodes.slice() };
}

/** `frontierRoot` of a hex frontier, as a Buffer (what checkpoints carry). */
export function hexFrontierRoot(frontier: HexFrontier): Buffer {
  const { nodes } = frontier;
  let root = nodes[nodes.length - 1];
  if (root === undefined) return EMPTY_ROOT;
  for (let i = nodes.length - 2; i >= 0; i--) root = nodeHashHex(nodes[i] as string, root);
  return Buffer.from(root, "hex");
}

/** Stored form, as `encodeFrontier`. */
export function encodeHexFrontier(frontier: HexFrontier): string {
  return frontier.nodes.join("");
}

/** As `decodeFrontier`; refuses anything but 64-digit lower-case hex nodes. */
export function decodeHexFrontier(size: number, hex: string): HexFrontier {
  if (!/^(?:[0-9a-f]{64})*$/.test(hex))
    throw new Error("stored Merkle frontier is not a sequence of 64-digit hex hashes");
  const nodes: string[] = [];
  for (let i = 0; i < hex.length; i += 64) nodes.push(hex.slice(i, i + 64));
  if (nodes.length !== popcount(size)) {
    throw new Error(
      `stored Merkle frontier has ${nodes.length} nodes, a tree of ${size} leaves needs ${popcount(size)}`,
    );
  }
  return { size, nodes };
}

/**
 * RFC 6962 MTH of the whole tree. The tree splits at the largest power of two
 * below its size, so the root folds the frontier from the right.
 */
export function frontierRoot(frontier: Frontier): Buffer {
  const { nodes } = frontier;
  let root = nodes[nodes.length - 1];
  if (!root) return EMPTY_ROOT;
  for (let i = nodes.length - 2; i >= 0; i--) root = nodeHash(nodes[i] as Buffer, root);
  return root;
}

/** Stored form: the size is stored next to it, the nodes as one hex string. */
export function encodeFrontier(frontier: Frontier): string {
  return frontier.nodes.map((n) => n.toString("hex")).join("");
}

export function decodeFrontier(size: number, hex: string): Frontier {
  const nodes: Buffer[] = [];
  for (let i = 0; i < hex.length; i += 64) nodes.push(Buffer.from(hex.slice(i, i + 64), "hex"));
  if (nodes.length !== popcount(size)) {
    throw new Error(
      `stored Merkle frontier has ${nodes.length} nodes, a tree of ${size} leaves needs ${popcount(size)}`,
    );
  }
  return { size, nodes };
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) count += v % 2;
  return count;
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 MTH over leaves[from, to). In memory; for proofs and tests, not for the append path. */
export function rangeRoot(leaves: readonly Buffer[], from = 0, to = leaves.length): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[from] as Buffer;
  const k = splitPoint(n);
  return nodeHash(rangeRoot(leaves, from, from + k), rangeRoot(leaves, from + k, to));
}
