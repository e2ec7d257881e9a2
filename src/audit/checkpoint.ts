import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";

/**
 * Signed checkpoints: a tree size and root hash, signed with Ed25519, in the
 * C2SP tlog-checkpoint format wrapped in a C2SP signed note. Key files use the
 * same text encodings as Go's golang.org/x/mod/sumdb/note, so an auditor can
 * check Warden's checkpoints with standard transparency-log tooling.
 *
 *   warden/op-fw            ← origin
 *   1042                    ← tree size
 *   q0Xg…=                  ← base64 root hash
 *                           ← blank line
 *   — warden-pol-1 AbCd…=   ← base64(4-byte key id ‖ 64-byte signature)
 */

const ED25519_ALG = 0x01;
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SIGNATURE_DASH = "\u2014";
const KEY_NAME_PATTERN = /^[^\s+\u2014]+$/;

/** Signs checkpoints. Held only by the running Warden; auditors get the `Verifier`. */
export interface Signer {
  readonly name: string;
  readonly keyId: Buffer;
  /** `<name>+<key id hex>+<base64(0x01 ‖ public key)>`: what auditors are given. */
  readonly verifierKey: string;
  /** True for a key made up for one rehearsal run: its signatures prove nothing later. */
  readonly ephemeral: boolean;
  sign(message: string): Buffer;
}

export interface Verifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly verifierKey: string;
  verify(message: string, signature: Uint8Array): boolean;
}

/** A key file is missing, unreadable or malformed; the message says how to fix it. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
}

/** C2SP signed-note key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). */
export function keyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash("sha256")
    .update(name, "utf8")
    .update(Buffer.from([0x0a, ED25519_ALG]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  if (!jwk.x) throw new Error("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}

function verifierKeyText(name: string, publicKey: Buffer): string {
  const id = keyId(name, publicKey).toString("hex");
  return `${name}+${id}+${Buffer.concat([Buffer.from([ED25519_ALG]), publicKey]).toString("base64")}`;
}

function signerFromSeed(name: string, seed: Buffer, ephemeral: boolean): Signer {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = rawPublicKey(privateKey);
  return {
    name,
    keyId: keyId(name, publicKey),
    ephemeral,
    verifierKey: verifierKeyText(name, publicKey),
    sign: (message) => sign(null, Buffer.from(message, "utf8"), privateKey),
  };
}

function checkKeyName(name: string): void {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new KeyFileError(
      `key name "${name}" must be non-empty and contain no spaces, "+" or "—"`,
    );
  }
}

/** A fresh key pair: its private half as the key file's text, its public half as the verifier key. */
export function generateKey(name: string): { privateText: string; verifierKey: string } {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  const seed = der.subarray(der.length - 32);
  const publicKey = rawPublicKey(privateKey);
  const id = keyId(name, publicKey).toString("hex");
  const keyData = Buffer.concat([Buffer.from([ED25519_ALG]), seed]).toString("base64");
  return {
    privateText: `PRIVATE+KEY+${name}+${id}+${keyData}\n`,
    verifierKey: verifierKeyText(name, publicKey),
  };
}

/**
 * Writes `out` (private key, mode 0600) and `out.pub` (for auditors). Refuses to
 * overwrite either: losing a signing key makes earlier checkpoints unverifiable
 * against the key auditors were given.
 */
export function writeKeyFiles(
  out: string,
  name: string,
): { privatePath: string; publicPath: string; verifierKey: string } {
  const { privateText, verifierKey } = generateKey(name);
  const publicPath = `${out}.pub`;
  for (const path of [out, publicPath]) {
    if (exists(path))
      throw new KeyFileError(
        `${path} already exists: choose another --out, keys are never overwritten`,
      );
  }
  writeFileSync(out, privateText, { mode: 0o600, flag: "wx" });
  writeFileSync(publicPath, `${verifierKey}\n`, { mode: 0o644, flag: "wx" });
  return { privatePath: out, publicPath, verifierKey };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Splits on the first n-1 "+": the last part is base64, which may itself contain "+". */
function splitPlus(text: string, n: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (parts.length < n - 1) {
    const at = rest.indexOf("+");
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new KeyFileError(
        what === "private"
          ? `audit signing key ${path} does not exist: create one with \`warden audit keygen --out ${path}\``
          : `public key file ${path} does not exist: pass the .pub file made by \`warden audit keygen\``,
      );
    }
    throw new KeyFileError(`cannot read ${what} key file ${path}: ${(err as Error).message}`);
  }
}

/** Loads the signing key named by WARDEN_AUDIT_KEY. Refuses a key file others can read, as ssh does. */
export function loadSigner(path: string): Signer {
  const text = readKeyFile(path, "private");
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    throw new KeyFileError(
      `audit signing key ${path} is readable by other users: run \`chmod 600 ${path}\``,
    );
  }
  const parts = splitPlus(text, 5);
  if (parts.length !== 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new KeyFileError(
      `${path} is not a Warden audit signing key (expected PRIVATE+KEY+<name>+<id>+<key>)`,
    );
  }
  const [, , name = "", id = "", data = ""] = parts;
  const raw = Buffer.from(data, "base64");
  if (raw.length !== 33 || raw[0] !== ED25519_ALG)
    throw new KeyFileError(`${path}: not an Ed25519 key`);
  const signer = signerFromSeed(name, raw.subarray(1), false);
  if (!signer.verifierKey.startsWith(`${name}+${id}+`)) {
    throw new KeyFileError(`${path}: the key id does not match the key; the file is damaged`);
  }
  return signer;
}

/** A key that lives only as long as this process: for rehearsals, which must say so. */
export function ephemeralSigner(name = "warden-ephemeral"): Signer {
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  return signerFromSeed(name, der.subarray(der.length - 32), true);
}

/**
 * The signer a run uses. A live run (real Telegram) refuses to start without
 * WARDEN_AUDIT_KEY: evidence signed with a throw-away key proves nothing. A
 * rehearsal gets an ephemeral key and a notice to show the operator.
 */
export function signerForRun(opts: { keyPath?: string; live: boolean }): {
  signer: Signer;
  notice?: string;
} {
  if (opts.keyPath) return { signer: loadSigner(opts.keyPath) };
  if (opts.live) {
    throw new KeyFileError(
      "a live run needs an audit signing key: create one with `warden audit keygen --out /etc/warden/audit.key` and set WARDEN_AUDIT_KEY to its path",
    );
  }
  const signer = ephemeralSigner();
  return {
    signer,
    notice: `rehearsal: audit checkpoints are signed with an ephemeral key (${signer.verifierKey}) that is lost when Warden stops`,
  };
}

export function parseVerifierKey(text: string): Verifier {
  const parts = splitPlus(text.trim(), 3);
  const [name = "", id = "", data = ""] = parts;
  const raw = Buffer.from(data, "base64");
  if (
    parts.length !== 3 ||
    !KEY_NAME_PATTERN.test(name) ||
    raw.length !== 33 ||
    raw[0] !== ED25519_ALG
  ) {
    throw new KeyFileError(
      "not a verifier key: expected <name>+<key id>+<base64 key>, as in the .pub file from `warden audit keygen`",
    );
  }
  const publicKeyBytes = raw.subarray(1);
  const computedId = keyId(name, publicKeyBytes);
  if (computedId.toString("hex") !== id)
    throw new KeyFileError("verifier key id does not match its key: the key is damaged");
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: publicKeyBytes.toString("base64url") },
    format: "jwk",
  });
  return {
    name,
    keyId: computedId,
    verifierKey: text.trim(),
    verify: (message, signature) =>
      verify(null, Buffer.from(message, "utf8"), publicKey, signature),
  };
}

export function loadVerifier(path: string): Verifier {
  try {
    return parseVerifierKey(readKeyFile(path, "public"));
  } catch (err) {
    if (err instanceof KeyFileError && !err.message.includes(path))
      throw new KeyFileError(`${path}: ${err.message}`);
    throw err;
  }
}

export function verifierOf(signer: Signer): Verifier {
  return parseVerifierKey(signer.verifierKey);
}

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
