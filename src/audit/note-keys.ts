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
 * Ed25519 keys in the text encodings of C2SP signed notes (those of Go's
 * golang.org/x/mod/sumdb/note): a private key file `PRIVATE+KEY+<name>+<key
 * id>+<base64(type ‖ seed)>` and a verifier key `<name>+<key id>+<base64(type
 * ‖ public key)>`, the key id being the first 4 bytes of SHA-256(name ‖ 0x0A
 * ‖ type ‖ public key).
 *
 * Two types of key exist, told apart by their type byte, so that one is never
 * taken for the other:
 *
 * - 0x01, the log's own signing key (the operator's: it signs checkpoints,
 *   `WARDEN_AUDIT_KEY`, `warden audit keygen`);
 * - 0x04, a witness's key (C2SP tlog-cosignature, cosignature/v1: held by
 *   oversight outside the operating team, `warden audit witness keygen`).
 */

/** C2SP signed-note Ed25519: the log's checkpoint signatures. */
export const NOTE_ED25519 = 0x01;
/** C2SP tlog-cosignature/v1 Ed25519: a witness's cosignatures. */
export const COSIGNATURE_ED25519 = 0x04;
export type KeyType = typeof NOTE_ED25519 | typeof COSIGNATURE_ED25519;

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const KEY_NAME_PATTERN = /^[^\s+\u2014]+$/;

/** Signs with one key. The log's key is held only by the running Warden, a witness's only by the witness. */
export interface Signer {
  readonly name: string;
  readonly keyId: Buffer;
  /** `<name>+<key id hex>+<base64(type ‖ public key)>`: what verifiers are given. */
  readonly verifierKey: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** True for a key made up for one rehearsal run: its signatures prove nothing later. */
  readonly ephemeral: boolean;
  sign(message: string): Buffer;
}

export interface Verifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly verifierKey: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  verify(message: string, signature: Uint8Array): boolean;
}

/** A key file is missing, unreadable or malformed; the message says how to fix it. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
}

/** C2SP signed-note key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key). */
export function keyId(name: string, publicKey: Uint8Array, type: KeyType = NOTE_ED25519): Buffer {
  return createHash("sha256")
    .update(name, "utf8")
    .update(Buffer.from([0x0a, type]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  if (!jwk.x) throw new Error("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}

function verifierKeyText(name: string, publicKey: Buffer, type: KeyType): string {
  const id = keyId(name, publicKey, type).toString("hex");
  return `${name}+${id}+${Buffer.concat([Buffer.from([type]), publicKey]).toString("base64")}`;
}

function signerFromSeed(name: string, seed: Buffer, ephemeral: boolean, type: KeyType): Signer {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = rawPublicKey(privateKey);
  return {
    name,
    keyId: keyId(name, publicKey, type),
    ephemeral,
    publicKey,
    verifierKey: verifierKeyText(name, publicKey, type),
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
export function generateKey(
  name: string,
  type: KeyType = NOTE_ED25519,
): { privateText: string; verifierKey: string } {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  const seed = der.subarray(der.length - 32);
  const publicKey = rawPublicKey(privateKey);
  const id = keyId(name, publicKey, type).toString("hex");
  const keyData = Buffer.concat([Buffer.from([type]), seed]).toString("base64");
  return {
    privateText: `PRIVATE+KEY+${name}+${id}+${keyData}\n`,
    verifierKey: verifierKeyText(name, publicKey, type),
  };
}

/**
 * Writes `out` (private key, mode 0600) and `out.pub` (for verifiers). Refuses
 * to overwrite either: losing a signing key makes earlier signatures
 * unverifiable against the key verifiers were given.
 */
export function writeKeyFiles(
  out: string,
  name: string,
  type: KeyType = NOTE_ED25519,
): { privatePath: string; publicPath: string; verifierKey: string } {
  const { privateText, verifierKey } = generateKey(name, type);
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

/** What each type of key is, in words, for a refusal that says which key was given instead. */
const KEY_WORDS: Record<KeyType, { what: string; make: string; pass: string }> = {
  [NOTE_ED25519]: {
    what: "the log's audit signing key",
    make: "warden audit keygen",
    pass: "--pubkey",
  },
  [COSIGNATURE_ED25519]: {
    what: "a witness key (cosignature/v1)",
    make: "warden audit witness keygen",
    pass: "--witness-pubkey",
  },
};

function otherType(type: KeyType): KeyType {
  return type === NOTE_ED25519 ? COSIGNATURE_ED25519 : NOTE_ED25519;
}

function readKeyFile(path: string, what: "private" | "public", type: KeyType): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new KeyFileError(
        what === "private"
          ? `${type === NOTE_ED25519 ? "audit signing key" : "witness key"} ${path} does not exist: create one with \`${KEY_WORDS[type].make} --out ${path}\``
          : `public key file ${path} does not exist: pass the .pub file made by \`${KEY_WORDS[type].make}\``,
      );
    }
    throw new KeyFileError(`cannot read ${what} key file ${path}: ${(err as Error).message}`);
  }
}

/** Loads a private key of `type`. Refuses a key file others can read, as ssh does, and a key of the other type. */
export function loadKeyFile(path: string, type: KeyType = NOTE_ED25519): Signer {
  const text = readKeyFile(path, "private", type);
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    throw new KeyFileError(
      `${type === NOTE_ED25519 ? "audit signing key" : "witness key"} ${path} is readable by other users: run \`chmod 600 ${path}\``,
    );
  }
  const parts = splitPlus(text, 5);
  if (parts.length !== 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new KeyFileError(
      `${path} is not a Warden private key (expected PRIVATE+KEY+<name>+<id>+<key>): make one with \`${KEY_WORDS[type].make}\``,
    );
  }
  const [, , name = "", id = "", data = ""] = parts;
  const raw = Buffer.from(data, "base64");
  if (raw.length === 33 && raw[0] === otherType(type)) {
    throw new KeyFileError(
      `${path} is ${KEY_WORDS[otherType(type)].what}, not ${KEY_WORDS[type].what}: each is held by someone else; make one with \`${KEY_WORDS[type].make}\``,
    );
  }
  if (raw.length !== 33 || raw[0] !== type) throw new KeyFileError(`${path}: not an Ed25519 key`);
  const signer = signerFromSeed(name, raw.subarray(1), false, type);
  if (!signer.verifierKey.startsWith(`${name}+${id}+`)) {
    throw new KeyFileError(`${path}: the key id does not match the key; the file is damaged`);
  }
  return signer;
}

/** Loads the signing key named by WARDEN_AUDIT_KEY. */
export function loadSigner(path: string): Signer {
  return loadKeyFile(path, NOTE_ED25519);
}

/** A key that lives only as long as this process: for rehearsals, which must say so. */
export function ephemeralSigner(name = "warden-ephemeral", type: KeyType = NOTE_ED25519): Signer {
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  return signerFromSeed(name, der.subarray(der.length - 32), true, type);
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

/** Parses a verifier key of `type` (default: the log's); refuses one of the other type, saying where it goes. */
export function parseVerifierKey(text: string, type: KeyType = NOTE_ED25519): Verifier {
  const parts = splitPlus(text.trim(), 3);
  const [name = "", id = "", data = ""] = parts;
  const raw = Buffer.from(data, "base64");
  if (parts.length === 3 && raw.length === 33 && raw[0] === otherType(type)) {
    throw new KeyFileError(
      `this is the public key of ${KEY_WORDS[otherType(type)].what}, not of ${KEY_WORDS[type].what}: pass it with ${KEY_WORDS[otherType(type)].pass}`,
    );
  }
  if (parts.length !== 3 || !KEY_NAME_PATTERN.test(name) || raw.length !== 33 || raw[0] !== type) {
    throw new KeyFileError(
      `not a verifier key: expected <name>+<key id>+<base64 key>, as in the .pub file from \`${KEY_WORDS[type].make}\``,
    );
  }
  const publicKeyBytes = raw.subarray(1);
  const computedId = keyId(name, publicKeyBytes, type);
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
    publicKey: Buffer.from(publicKeyBytes),
    verify: (message, signature) =>
      verify(null, Buffer.from(message, "utf8"), publicKey, signature),
  };
}

export function loadVerifier(path: string, type: KeyType = NOTE_ED25519): Verifier {
  try {
    return parseVerifierKey(readKeyFile(path, "public", type), type);
  } catch (err) {
    if (err instanceof KeyFileError && !err.message.includes(path))
      throw new KeyFileError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The verifier of a signer's key, of whichever type it is. */
export function verifierOf(signer: Signer): Verifier {
  const data = splitPlus(signer.verifierKey, 3)[2] ?? "";
  const type =
    Buffer.from(data, "base64")[0] === COSIGNATURE_ED25519 ? COSIGNATURE_ED25519 : NOTE_ED25519;
  return parseVerifierKey(signer.verifierKey, type);
}
