import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ephemeralSigner,
  parseCheckpoint,
  signCheckpoint,
  verifierOf,
} from "../../src/audit/checkpoint.ts";
import { consistencyProof, proveConsistency } from "../../src/audit/consistency.ts";
import {
  addSignatureLine,
  checkCosignatures,
  cosignatureLine,
} from "../../src/audit/cosignature.ts";
import { leafHash, rangeRoot } from "../../src/audit/merkle.ts";
import { COSIGNATURE_ED25519 } from "../../src/audit/note-keys.ts";
import { witnessCheckpoint } from "../../src/audit/witness.ts";
import { openWitnessState } from "../../src/audit/witness-state.ts";

/**
 * The cosignature format, checked against the text of C2SP tlog-cosignature
 * (Ed25519, cosignature/v1) with nothing of Warden's but the line it writes,
 * and the witness's rules on checkpoints offered to it.
 */

const ORIGIN = "warden/op-cosign";
const BODY = `${ORIGIN}\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n`;

describe("cosignature/v1 lines", () => {
  it("are name, then base64 of the type-0x04 key id, a big-endian timestamp and an Ed25519 signature of the spec's message", () => {
    const witness = ephemeralSigner("witness.example/w1", COSIGNATURE_ED25519);
    const line = cosignatureLine(witness, BODY, 1679315147);
    const [dash, name, data] = line.split(" ");
    expect(dash).toBe("\u2014");
    expect(name).toBe("witness.example/w1");
    const raw = Buffer.from(data ?? "", "base64");
    expect(raw).toHaveLength(4 + 8 + 64);
    const id = createHash("sha256")
      .update("witness.example/w1\n")
      .update(Buffer.from([0x04]))
      .update(witness.publicKey)
      .digest()
      .subarray(0, 4);
    expect(raw.subarray(0, 4)).toEqual(id);
    expect(raw.readBigUInt64BE(4)).toBe(1679315147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${BODY}`, "utf8");
    const publicKey = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: witness.publicKey.toString("base64url") },
      format: "jwk",
    });
    expect(verify(null, message, publicKey, raw.subarray(12))).toBe(true);
  });

  it("verify against the witness's key; other keys' lines are ignored, an altered one fails", () => {
    const log = ephemeralSigner("warden");
    const witness = ephemeralSigner("om-oversight", COSIGNATURE_ED25519);
    const stranger = ephemeralSigner("om-oversight", COSIGNATURE_ED25519);
    const note = signCheckpoint(log, ORIGIN, 5, leafHash("x"));
    const cp = parseCheckpoint(note);
    const cosigned = addSignatureLine(note, cosignatureLine(witness, cp.body, 1700000000));
    expect(addSignatureLine(cosigned, cosigned.trimEnd().split("\n").at(-1) ?? "")).toBe(cosigned);
    const found = checkCosignatures(parseCheckpoint(cosigned), [verifierOf(witness)]);
    expect(found.problem).toBeUndefined();
    expect(found.cosigned.map((c) => c.time)).toEqual([1700000000]);
    expect(checkCosignatures(parseCheckpoint(cosigned), [verifierOf(stranger)])).toEqual({
      cosigned: [],
    });
    // The spec's own example line, by a key Warden does not know, is ignored too.
    const spec = `${cp.body}\n\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n`;
    expect(checkCosignatures(parseCheckpoint(spec), [verifierOf(witness)])).toEqual({
      cosigned: [],
    });
    // Another time under the same signature: the message no longer matches.
    const line = cosigned.trimEnd().split("\n").at(-1) ?? "";
    const raw = Buffer.from(line.split(" ")[2] ?? "", "base64");
    raw.writeBigUInt64BE(1700000001n, 4);
    const moved = cosigned.replace(line, `\u2014 om-oversight ${raw.toString("base64")}`);
    expect(checkCosignatures(parseCheckpoint(moved), [verifierOf(witness)]).problem).toMatch(
      /does not verify/,
    );
  });
});

describe("the witness's rules", () => {
  const log = ephemeralSigner("warden");
  const witness = ephemeralSigner("om-oversight", COSIGNATURE_ED25519);
  const leaves = Array.from({ length: 30 }, (_, i) => leafHash(`entry ${i}`));
  const hex = leaves.map((l) => l.toString("hex"));
  const noteAt = (size: number, of = leaves) =>
    signCheckpoint(log, ORIGIN, size, rangeRoot(of, 0, size));

  async function offer(
    state: Awaited<ReturnType<typeof openWitnessState>>,
    note: string,
    of = hex,
  ) {
    return witnessCheckpoint({
      note,
      origin: ORIGIN,
      operator: verifierOf(log),
      witness,
      state,
      prove: (m, n) => proveConsistency(of, m, n),
      now: () => Date.parse("2026-03-01T00:00:00Z"),
    });
  }

  it("cosigns the same checkpoint again, refuses a fork at its size, and a log whose leaves do not give the root", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "warden-witness-")), "state");
    const state = await openWitnessState(dir, verifierOf(witness));
    try {
      expect((await offer(state, noteAt(10))).ok).toBe(true);
      expect((await offer(state, noteAt(10))).ok).toBe(true);
      const forked = [...leaves];
      forked[2] = leafHash("rewritten");
      expect(await offer(state, noteAt(10, forked))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^fork: checkpoint 10 of warden\/op-cosign has another root/),
      });
      expect(await offer(state, noteAt(20), hex.slice(0, 19))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(
          /no consistency proof could be made from the log: the log holds 19 entries/,
        ),
      });
      expect(await offer(state, noteAt(20, forked), hex)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/do not have the root of its checkpoint 20/),
      });
      expect(
        await offer(
          state,
          noteAt(20, forked),
          forked.map((l) => l.toString("hex")),
        ),
      ).toMatchObject({
        ok: false,
        reason: expect.stringMatching(
          /^inconsistent: checkpoint 20 .* does not extend checkpoint 10/,
        ),
      });
      const grown = await offer(state, noteAt(30));
      expect(grown).toMatchObject({ ok: true, previous: { size: 10 } });
      // The proof the witness checked is the RFC 6962 one.
      expect(consistencyProof(leaves, 10)).toHaveLength(
        (await proveConsistency(hex, 10, 30)).proof.length,
      );
    } finally {
      await state.close();
    }
    const history = readFileSync(join(dir, "history.jsonl"), "utf8").trim().split("\n");
    expect(history.map((l) => JSON.parse(l).size)).toEqual([10, 10, 30]);
    expect(JSON.parse(history[2] ?? "")).toMatchObject({ previous: { size: 10 } });
    // The record reopens, and remembers.
    const again = await openWitnessState(dir, verifierOf(witness));
    try {
      expect(again.latest(ORIGIN)?.size).toBe(30);
      expect(await offer(again, noteAt(29))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^rollback/),
      });
    } finally {
      await again.close();
    }
    // Another witness key cannot use this record.
    await expect(
      openWitnessState(dir, verifierOf(ephemeralSigner("om-oversight", COSIGNATURE_ED25519))),
    ).rejects.toThrow(/line 1 cannot be believed: it carries no cosignature by om-oversight/);
  });

  it("refuses to act as a witness with the operator's own key", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "warden-witness-")), "state");
    const state = await openWitnessState(dir, verifierOf(witness));
    try {
      const result = await witnessCheckpoint({
        note: noteAt(5),
        origin: ORIGIN,
        operator: { ...verifierOf(log), publicKey: witness.publicKey },
        witness,
        state,
        prove: (m, n) => proveConsistency(hex, m, n),
        now: Date.now,
      });
      expect(result).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/is the operator's key/),
      });
    } finally {
      await state.close();
    }
  });
});
