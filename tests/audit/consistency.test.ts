import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import {
  consistencyProof,
  consistencyRanges,
  proveConsistency,
  verifyConsistency,
} from "../../src/audit/consistency.ts";
import { consistencyProofFromStore } from "../../src/audit/consistency-store.ts";
import { leafHash, rangeRoot } from "../../src/audit/merkle.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { freshLog, info, operator } from "./helpers.ts";

/**
 * Known answers from the Go implementation witnesses run
 * (github.com/transparency-dev/merkle, proof/verify_test.go, itself from
 * Certificate Transparency's reference tests): the eight-leaf tree, its
 * roots at every size, and the consistency proofs between some of them,
 * with the ways that test corrupts a proof.
 */

const LEAF_DATA = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map((h) => Buffer.from(h, "hex"));
const VECTORS: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    6,
    8,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [
    2,
    5,
    [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  ],
  [
    6,
    7,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
];

const LEAVES = LEAF_DATA.map((hex) =>
  createHash("sha256")
    .update(Buffer.from([0]))
    .update(Buffer.from(hex, "hex"))
    .digest(),
);
const SOME_HASH = Buffer.from(
  "abacaba000000000000000000000000000000000000000000060061e00123456",
  "hex",
);
const EMPTY_TREE = Buffer.from(
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "hex",
);

/** The corruptions transparency-dev/merkle tries on every known-good proof; none may verify. */
function corruptions(m: number, n: number, r1: Buffer, r2: Buffer, proof: Buffer[]) {
  const wrong = Buffer.from("WrongRoot");
  const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
    ["size1 - 1", m - 1, n, r1, r2, proof],
    ["size1 + 1", m + 1, n, r1, r2, proof],
    ["size1 ^ 2", m ^ 2, n, r1, r2, proof],
    ["size2 * 2", m, n * 2, r1, r2, proof],
    ["size2 / 2", m, Math.floor(n / 2), r1, r2, proof],
    ["wrong root1", m, n, wrong, r2, proof],
    ["wrong root2", m, n, r1, wrong, proof],
    ["swapped roots", m, n, r2, r1, proof],
    ["empty proof", m, n, r1, r2, []],
    ["trailing garbage", m, n, r1, r2, [...proof, Buffer.alloc(0)]],
    ["trailing root1", m, n, r1, r2, [...proof, r1]],
    ["trailing root2", m, n, r1, r2, [...proof, r2]],
    ["preceding garbage", m, n, r1, r2, [Buffer.alloc(0), ...proof]],
    ["preceding root1", m, n, r1, r2, [r1, ...proof]],
    ["preceding root2", m, n, r1, r2, [r2, ...proof]],
    ["preceding proof[0]", m, n, r1, r2, [proof[0] as Buffer, ...proof]],
    ["truncated proof", m, n, r1, r2, proof.slice(0, -1)],
  ];
  for (let i = 0; i < proof.length; i++) {
    const flipped = proof.map((p) => Buffer.from(p));
    const node = flipped[i] as Buffer;
    node.writeUInt8((node.readUInt8(0) ^ 16) & 0xff, 0);
    probes.push([`modified proof[${i}] bit 4`, m, n, r1, r2, flipped]);
  }
  return probes;
}

describe("RFC 6962 consistency proofs against transparency-dev/merkle's known answers", () => {
  it("produces exactly the known proofs, in memory and in one pass over the leaves", async () => {
    for (const [m, n, want] of VECTORS) {
      const prefix = LEAVES.slice(0, n);
      expect(consistencyProof(prefix, m).map((p) => p.toString("hex"))).toEqual(want);
      const hex = prefix.map((l) => l.toString("hex"));
      // Leaves past n are not read: a log keeps growing while it is proved.
      const streamed = await proveConsistency([...hex, "not a leaf"], m, n);
      expect(streamed.proof.map((p) => p.toString("hex"))).toEqual(want);
      expect(streamed.oldRoot).toEqual(ROOTS[m - 1]);
      expect(streamed.newRoot).toEqual(ROOTS[n - 1]);
    }
  });

  it("verifies the known proofs and refuses every corruption of them", () => {
    for (const [m, n, hexProof] of VECTORS) {
      const proof = hexProof.map((h) => Buffer.from(h, "hex"));
      const r1 = ROOTS[m - 1] as Buffer;
      const r2 = ROOTS[n - 1] as Buffer;
      expect(verifyConsistency(m, n, r1, r2, proof), `${m}→${n}`).toBe(true);
      if (proof.length === 0) continue;
      const accepted = corruptions(m, n, r1, r2, proof)
        .filter(([, a, b, x, y, p]) => verifyConsistency(a, b, x, y, p))
        .map(([what]) => what);
      expect(accepted, `${m}→${n}`).toEqual([]);
    }
  });

  it("answers the edge cases as the Go verifier does", () => {
    const r1 = Buffer.from("don't care 1");
    const r2 = Buffer.from("don't care 2");
    const cases: [number, number, Buffer, Buffer, Buffer[], boolean][] = [
      [0, 0, r1, r2, [], false],
      [1, 1, r1, r2, [], false],
      [0, 0, r1, r1, [], true],
      [0, 1, r1, r2, [], true],
      [1, 1, r2, r2, [], true],
      [1, 0, r1, r2, [], false],
      [2, 1, r1, r2, [], false],
      [1, 2, r1, r2, [], false],
      [0, 0, EMPTY_TREE, r2, [], false],
      [1, 1, EMPTY_TREE, r2, [], false],
      [0, 0, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], false],
      [0, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], false],
      [1, 1, EMPTY_TREE, EMPTY_TREE, [EMPTY_TREE], false],
      [3, 5, SOME_HASH, SOME_HASH, [SOME_HASH], false],
    ];
    for (const [m, n, a, b, proof, ok] of cases)
      expect(verifyConsistency(m, n, a, b, proof), `${m}→${n}`).toBe(ok);
  });

  it("proves every pair of sizes up to 70 in one pass, and a rewritten early leaf breaks the proof", async () => {
    const all = Array.from({ length: 70 }, (_, i) => leafHash(`entry ${i}`));
    const hex = all.map((l) => l.toString("hex"));
    for (let n = 1; n <= all.length; n++) {
      for (let m = 0; m <= n; m++) {
        const { proof, oldRoot, newRoot } = await proveConsistency(hex, m, n);
        expect(newRoot).toEqual(rangeRoot(all, 0, n));
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `${m}→${n}`).toBe(true);
        expect(proof).toHaveLength(consistencyRanges(m, n).length);
      }
    }
    const forked = [...hex];
    forked[3] = leafHash("rewritten").toString("hex");
    const honestOld = rangeRoot(all, 0, 8);
    const fork = await proveConsistency(forked, 8, 40);
    expect(verifyConsistency(8, 40, honestOld, fork.newRoot, fork.proof)).toBe(false);
  });

  it("refuses sizes that cannot be proved, and a log shorter than the proof needs", async () => {
    expect(() => consistencyRanges(5, 4)).toThrow(/0 ≤ m ≤ n/);
    expect(() => consistencyRanges(-1, 4)).toThrow(/0 ≤ m ≤ n/);
    await expect(proveConsistency(["ab".repeat(32)], 1, 2)).rejects.toThrow(/holds 1 entries/);
    await expect(proveConsistency(["xyz"], 0, 1)).rejects.toThrow(/not a 64-digit hex hash/);
  });
});

describe("consistency proofs from the stored log", () => {
  it("match the in-memory proof over the stream's leaf hashes, erased entries included", async () => {
    const { redis, log } = await freshLog({ checkpointEvery: 1_000_000 });
    await createCase(
      { redis, audit: log, actor: operator },
      { id: "op-proof", title: "Proof", authority: "a", purpose: "p", retentionDays: 1 },
    );
    for (let i = 0; i < 40; i++) await log.record(info("op-proof", "warn", { i }));
    const leaves = (await redis.xrange(auditKeys.stream("op-proof"), "-", "+")).map(([, fields]) =>
      Buffer.from(fields[1] as string, "hex"),
    );
    for (const [m, n] of [
      [1, 41],
      [7, 20],
      [16, 33],
      [40, 41],
    ] as const) {
      const stored = await consistencyProofFromStore(redis, "op-proof", m, n);
      expect(stored.proof).toEqual(consistencyProof(leaves.slice(0, n), m));
      expect(stored.newRoot).toEqual(rangeRoot(leaves, 0, n));
    }
    await expect(consistencyProofFromStore(redis, "op-proof", 3, 42)).rejects.toThrow(
      /holds 41 entries/,
    );
  });
});
