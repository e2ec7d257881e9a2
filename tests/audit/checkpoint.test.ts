import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkCheckpointSignature,
  ephemeralSigner,
  joinNotes,
  loadSigner,
  loadVerifier,
  parseCheckpoint,
  signCheckpoint,
  signerForRun,
  splitNotes,
  verifierOf,
  writeKeyFiles,
} from "../../src/audit/checkpoint.ts";

const root = createHash("sha256").update("root").digest();

describe("signed checkpoints", () => {
  it("writes a C2SP checkpoint in a signed note whose key id follows the spec", () => {
    const signer = ephemeralSigner("warden-test");
    const note = signCheckpoint(signer, "warden/op-fw", 1042, root);
    const [body, sigLine] = note.split("\n\n");
    expect(body).toBe(`warden/op-fw\n1042\n${root.toString("base64")}`);
    expect(sigLine).toMatch(/^\u2014 warden-test [A-Za-z0-9+/]+=*\n$/);
    const raw = Buffer.from((sigLine ?? "").trim().split(" ")[2] ?? "", "base64");
    const [, hex, keyData] =
      /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(signer.verifierKey)?.slice(1) ?? [];
    void hex;
    const pub = Buffer.from(keyData ?? "", "base64");
    expect(pub[0]).toBe(1);
    const expectedId = createHash("sha256")
      .update("warden-test\n")
      .update(pub)
      .digest()
      .subarray(0, 4);
    expect(raw.subarray(0, 4)).toEqual(expectedId);
    expect(raw).toHaveLength(68);

    const cp = parseCheckpoint(note);
    expect(cp).toMatchObject({ origin: "warden/op-fw", size: 1042 });
    expect(checkCheckpointSignature(cp, [verifierOf(signer)])).toBeUndefined();
  });

  it("rejects a checkpoint signed by another key, or altered after signing", () => {
    const trusted = ephemeralSigner("warden");
    const other = ephemeralSigner("warden");
    const forged = parseCheckpoint(signCheckpoint(other, "warden/c", 5, root));
    expect(checkCheckpointSignature(forged, [verifierOf(trusted)])).toMatch(
      /not by the trusted key/,
    );
    const note = signCheckpoint(trusted, "warden/c", 5, root);
    const altered = parseCheckpoint(note.replace("\n5\n", "\n6\n"));
    expect(checkCheckpointSignature(altered, [verifierOf(trusted)])).toMatch(/does not verify/);
  });

  it("splits a file of several notes back into the notes", () => {
    const s = ephemeralSigner();
    const notes = [1, 2, 3].map((n) => signCheckpoint(s, "warden/c", n, root));
    expect(splitNotes(joinNotes(notes))).toEqual(notes);
  });

  it("keygen writes a 0600 private key and a .pub, and never overwrites", () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-key-"));
    const out = join(dir, "audit.key");
    const written = writeKeyFiles(out, "warden-lka");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${out}.pub`, "utf8").trim()).toBe(written.verifierKey);
    const signer = loadSigner(out);
    const verifier = loadVerifier(`${out}.pub`);
    const cp = parseCheckpoint(signCheckpoint(signer, "warden/c", 1, root));
    expect(checkCheckpointSignature(cp, [verifier])).toBeUndefined();
    expect(() => writeKeyFiles(out, "warden-lka")).toThrow(/already exists/);
    expect(readFileSync(out, "utf8")).toMatch(/^PRIVATE\+KEY\+warden-lka\+/);
  });

  it("refuses missing and world-readable key files with what to do", () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-key-"));
    expect(() => loadSigner(join(dir, "nope.key"))).toThrow(
      /does not exist: create one with `warden audit keygen/,
    );
    expect(() => loadVerifier(join(dir, "nope.pub"))).toThrow(/does not exist/);
    const out = join(dir, "k");
    writeKeyFiles(out, "w");
    writeFileSync(join(dir, "copy"), readFileSync(out), { mode: 0o644 });
    expect(() => loadSigner(join(dir, "copy"))).toThrow(/chmod 600/);
  });

  it("a live run refuses to start without a key; a rehearsal gets an ephemeral one and says so", () => {
    expect(() => signerForRun({ live: true })).toThrow(/live run needs an audit signing key/);
    const rehearsal = signerForRun({ live: false });
    expect(rehearsal.signer.ephemeral).toBe(true);
    expect(rehearsal.notice).toMatch(/ephemeral key/);
  });
});
