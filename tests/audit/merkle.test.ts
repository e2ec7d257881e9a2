import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { consistencyProof, verifyConsistency } from "../../src/audit/consistency.ts";
import {
  appendLeaf,
  decodeFrontier,
  EMPTY_ROOT,
  emptyFrontier,
  encodeFrontier,
  frontierRoot,
  leafHash,
  rangeRoot,
} from "../../src/audit/merkle.ts";

// The leaves and roots of the reference tree in Certificate Transparency's merkle_tree_test.
const CT_LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));

describe("RFC 6962 Merkle tree", () => {
  it("reproduces the Certificate Transparency reference roots incrementally", () => {
    const tree = emptyFrontier();
    CT_LEAVES.forEach((hex, i) => {
      const leaf = createHash("sha256")
        .update(Buffer.from([0]))
        .update(Buffer.from(hex, "hex"))
        .digest();
      appendLeaf(tree, leaf);
      expect(frontierRoot(tree).toString("hex")).toBe(CT_ROOTS[i]);
    });
    expect(frontierRoot(emptyFrontier())).toEqual(EMPTY_ROOT);
  });

  it("keeps one frontier node per set bit of the size and survives a store/load round trip", () => {
    const all = leaves(77);
    const tree = emptyFrontier();
    for (const [i, leaf] of all.entries()) {
      appendLeaf(tree, leaf);
      const size = i + 1;
      expect(tree.nodes).toHaveLength(size.toString(2).replaceAll("0", "").length);
      expect(frontierRoot(decodeFrontier(size, encodeFrontier(tree)))).toEqual(
        rangeRoot(all, 0, size),
      );
    }
    expect(() => decodeFrontier(6, encodeFrontier(tree))).toThrow(/needs 2/);
  });

  it("proves consistency between every pair of sizes up to 33, and rejects altered proofs", () => {
    const all = leaves(33);
    for (let n = 1; n <= 33; n++) {
      const prefix = all.slice(0, n);
      const newRoot = rangeRoot(prefix);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(prefix, m);
        const oldRoot = rangeRoot(prefix, 0, m);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
        if (m < n) {
          const bad = proof.map((p, i) => (i === 0 ? leafHash("forged") : p));
          expect(verifyConsistency(m, n, oldRoot, newRoot, bad)).toBe(false);
          expect(verifyConsistency(m, n, leafHash("other old root"), newRoot, proof)).toBe(false);
        }
      }
    }
  });

  it("rejects a proof between trees that disagree on an early leaf", () => {
    const a = leaves(20);
    const b = [...a];
    b[3] = leafHash("rewritten");
    const proof = consistencyProof(b, 8);
    expect(verifyConsistency(8, 20, rangeRoot(a, 0, 8), rangeRoot(b), proof)).toBe(false);
  });
});
