import type { Signer, Verifier } from "./note-keys.ts";

export {
  ephemeralSigner,
  generateKey,
  KeyFileError,
  keyId,
  loadSigner,
  loadVerifier,
  parseVerifierKey,
  type Signer,
  signerForRun,
  type Verifier,
  verifierOf,
  writeKeyFiles,
} from "./note-keys.ts";

const SIGNATURE_DASH = "\u2014";

/**
 * Signed checkpoints: a tree size and root hash, signed with Ed25519, in the
 * C2SP tlog-checkpoint format wrapped in a C2SP signed note. Key files
 * (`note-keys.ts`) use the same text encodings as Go's
 * golang.org/x/mod/sumdb/note, so an auditor can check Warden's checkpoints
 * with standard transparency-log tooling.
 *
 *   warden/op-fw            ← origin
 *   1042                    ← tree size
 *   q0Xg…=                  ← base64 root hash
 *                           ← blank line
 *   — warden-pol-1 AbCd…=   ← base64(4-byte key id ‖ 64-byte signature)
 */

// --- checkpoint notes ------------------------------------------------------

export function checkpointOrigin(caseId: string): string {
  return `warden/${caseId}`;
}

export function checkpointBody(origin: string, size: number, root: Uint8Array): string {
  return `${origin}\n${size}\n${Buffer.from(root).toString("base64")}\n`;
}

/** The signed note: body, blank line, one signature line. */
export function signCheckpoint(
  signer: Signer,
  origin: string,
  size: number,
  root: Uint8Array,
): string {
  const body = checkpointBody(origin, size, root);
  const sig = Buffer.concat([signer.keyId, signer.sign(body)]);
  return `${body}\n${SIGNATURE_DASH} ${signer.name} ${sig.toString("base64")}\n`;
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  body: string;
  signatures: NoteSignature[];
  /** The note exactly as stored. */
  text: string;
}

/** Parses one note; throws with a reason if it is not a well-formed checkpoint. */
export function parseCheckpoint(text: string): Checkpoint {
  const split = text.indexOf("\n\n");
  if (split < 0) throw new Error("not a signed note: no blank line between text and signatures");
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split("\n");
  const [origin = "", sizeText = "", rootText = ""] = lines;
  if (lines.length < 3 || !origin)
    throw new Error("checkpoint body needs origin, size and root lines");
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText))
    throw new Error(`checkpoint size "${sizeText}" is not a number`);
  const root = Buffer.from(rootText, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootText)
    throw new Error("checkpoint root is not base64 of 32 bytes");
  const sigText = text.slice(split + 2);
  if (!sigText.endsWith("\n")) throw new Error("signed note does not end with a newline");
  const signatures: NoteSignature[] = [];
  for (const line of sigText.slice(0, -1).split("\n")) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    const raw = match ? Buffer.from(match[2] ?? "", "base64") : undefined;
    if (!match || !raw || raw.length < 5) throw new Error(`malformed signature line "${line}"`);
    signatures.push({
      name: match[1] ?? "",
      keyId: raw.subarray(0, 4),
      signature: raw.subarray(4),
    });
  }
  if (signatures.length === 0) throw new Error("signed note has no signature");
  return { origin, size: Number(sizeText), root, body, signatures, text };
}

/**
 * Checks a note against known keys (C2SP signed-note rules): signatures by
 * unknown keys are ignored, a signature by a known key must verify, and at
 * least one known key must have signed. Returns the reason when it fails.
 */
export function checkCheckpointSignature(
  cp: Checkpoint,
  verifiers: readonly Verifier[],
): string | undefined {
  let verified = false;
  for (const s of cp.signatures) {
    const v = verifiers.find((k) => k.name === s.name && k.keyId.equals(s.keyId));
    if (!v) continue;
    if (!v.verify(cp.body, s.signature))
      return `signature by ${s.name} does not verify: the checkpoint was altered`;
    verified = true;
  }
  if (verified) return undefined;
  const by = cp.signatures.map((s) => `${s.name} (${s.keyId.toString("hex")})`).join(", ");
  const known = verifiers.map((v) => `${v.name} (${v.keyId.toString("hex")})`).join(", ");
  return `signed by ${by}, not by the trusted key ${known}`;
}

/** Several notes in one file are separated by one blank line after each note's signatures. */
export function splitNotes(text: string): string[] {
  const notes: string[] = [];
  const chunks = text.split("\n\n");
  for (let i = 0; i + 1 < chunks.length; i += 2) {
    const sigs = chunks[i + 1] ?? "";
    notes.push(`${chunks[i]}\n\n${sigs.endsWith("\n") ? sigs : `${sigs}\n`}`);
  }
  return notes.filter((n) => n.trim() !== "");
}

export function joinNotes(notes: readonly string[]): string {
  return notes.join("\n");
}

/**
 * The same checkpoint signed by several parties arrives as several notes
 * (the log's own, then a witness's copy with its cosignature added): merged
 * into one note per body carrying every distinct signature line, in the order
 * first seen, sorted by tree size. A note that does not parse is kept as it
 * is, for the verifier to report.
 */
export function mergeNotes(notes: readonly string[]): string[] {
  const merged = new Map<string, { size: number; lines: string[] }>();
  const unreadable: string[] = [];
  for (const text of notes) {
    let cp: Checkpoint;
    try {
      cp = parseCheckpoint(text);
    } catch {
      unreadable.push(text);
      continue;
    }
    const lines = text.slice(cp.body.length + 1, -1).split("\n");
    const seen = merged.get(cp.body);
    if (!seen) merged.set(cp.body, { size: cp.size, lines });
    else for (const line of lines) if (!seen.lines.includes(line)) seen.lines.push(line);
  }
  const sorted = [...merged.entries()].sort((a, b) => a[1].size - b[1].size);
  return [...sorted.map(([body, { lines }]) => `${body}\n${lines.join("\n")}\n`), ...unreadable];
}
