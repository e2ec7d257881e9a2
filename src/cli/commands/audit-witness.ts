import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { bundleLeaves } from "../../audit/bundle-files.ts";
import {
  checkCheckpointSignature,
  checkpointOrigin,
  parseCheckpoint,
  splitNotes,
} from "../../audit/checkpoint.ts";
import { proveConsistency } from "../../audit/consistency.ts";
import { consistencyProofFromStore } from "../../audit/consistency-store.ts";
import { cosignedAt } from "../../audit/cosignature.ts";
import { addCosignedNote } from "../../audit/cosignatures.ts";
import {
  COSIGNATURE_ED25519,
  KeyFileError,
  loadKeyFile,
  loadSigner,
  loadVerifier,
  type Verifier,
  verifierOf,
  writeKeyFiles,
} from "../../audit/note-keys.ts";
import { readCheckpointNotes } from "../../audit/storage.ts";
import { hasAuditLog } from "../../audit/verify-case.ts";
import { type WitnessResult, witnessCheckpoint } from "../../audit/witness.ts";
import { latestFile, openWitnessState, WitnessStateError } from "../../audit/witness-state.ts";
import { assertCaseId } from "../../store/keys.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden audit witness …`: the witness, run by oversight with a key of its
 * own (`src/audit/witness.ts` says what it checks before it cosigns).
 *
 *   witness keygen --out FILE                      the witness's key pair (type 0x04)
 *   witness --case ID --key K --state DIR --pubkey OP.pub
 *                                                  cosign the case's latest checkpoint,
 *                                                  stored with the case for exports
 *   witness --bundle DIR --key K --state DIR --pubkey OP.pub --out FILE
 *                                                  cosign a bundle's checkpoint offline
 *   witness import --case ID FILE                  an operator stores a cosigned note
 *
 * Exit 0: cosigned (or stored); 1: refused, saying why; 2: bad input.
 */

type Ctx = () => CliContext;

function keyError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeyFileError || err instanceof WitnessStateError)
      throw new CliError(err.message, 2);
    throw err;
  }
}

function caseIdOf(text: string): string {
  try {
    assertCaseId(text);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  return text;
}

/** The largest of some notes, or undefined: what is offered to the witness. */
function largest(notes: readonly string[]): string | undefined {
  let best: { note: string; size: number } | undefined;
  for (const note of notes) {
    try {
      const { size } = parseCheckpoint(note);
      if (!best || size > best.size) best = { note, size };
    } catch {
      // The witness refuses what it cannot parse; a bundle's other notes do not matter here.
    }
  }
  return best?.note;
}

interface WitnessOptions {
  case?: string;
  bundle?: string;
  key?: string;
  state?: string;
  pubkey?: string;
  out?: string;
}

function required(opts: WitnessOptions): { key: string; state: string; pubkey: string } {
  const missing = (["key", "state", "pubkey"] as const).filter((o) => !opts[o]);
  if (missing.length > 0) {
    throw new CliError(
      `warden audit witness needs ${missing.map((m) => `--${m}`).join(", ")}: the witness's key, its own state directory and the operator's .pub file`,
      2,
    );
  }
  if ((opts.case === undefined) === (opts.bundle === undefined))
    throw new CliError(
      "pass exactly one of --case ID (a live log) or --bundle DIR (an exported bundle)",
      2,
    );
  if (opts.bundle !== undefined && !opts.out)
    throw new CliError("--bundle needs --out FILE: where to write the cosigned checkpoint", 2);
  return { key: opts.key as string, state: opts.state as string, pubkey: opts.pubkey as string };
}

/** Runs the witness on one offered checkpoint with its state directory held for the run. */
async function runWitness(
  paths: { key: string; state: string },
  offer: { note: string; origin: string; operator: Verifier },
  prove: (m: number, n: number) => ReturnType<typeof proveConsistency>,
): Promise<WitnessResult> {
  const witness = keyError(() => loadKeyFile(paths.key, COSIGNATURE_ED25519));
  const state = await openWitnessState(paths.state, verifierOf(witness)).catch((err: unknown) => {
    if (err instanceof WitnessStateError) throw new CliError(err.message, 2);
    throw err;
  });
  try {
    return await witnessCheckpoint({ ...offer, witness, state, prove, now: Date.now });
  } finally {
    await state.close();
  }
}

function report(c: CliContext, result: WitnessResult, stateDir: string): void {
  if (!result.ok) throw new CliError(`not cosigned: ${result.reason}`, 1);
  const cp = result.checkpoint;
  c.out(
    result.previous
      ? `cosigned ${cp.origin} at size ${cp.size}: proved consistent with size ${result.previous.size}, cosigned on ${cosignedAt(result.previous.time)}`
      : `cosigned ${cp.origin} at size ${cp.size}: the first checkpoint this witness has seen of this log, so cosigned on trust; later ones must extend it`,
  );
  c.out(
    `recorded in ${stateDir}; give auditors ${latestFile(stateDir, cp.origin)} (verify --checkpoint)`,
  );
}

async function witnessCase(c: CliContext, opts: WitnessOptions): Promise<void> {
  const paths = required(opts);
  const caseId = caseIdOf(opts.case as string);
  const operator = keyError(() => loadVerifier(paths.pubkey));
  const store = await c.openStore({ durable: true });
  const { redis } = store.connection;
  if (!(await hasAuditLog(redis, caseId)))
    throw new CliError(
      `unknown case "${caseId}": it has no audit log; see \`warden case list\``,
      2,
    );
  const note = largest(await readCheckpointNotes(redis, caseId));
  if (!note) {
    throw new CliError(
      `case ${caseId} has no signed checkpoint yet: sign one on the server with \`warden audit checkpoint --case ${caseId}\``,
      2,
    );
  }
  const result = await runWitness(
    paths,
    { note, origin: checkpointOrigin(caseId), operator },
    (m, n) => consistencyProofFromStore(redis, caseId, m, n),
  );
  report(c, result, paths.state);
  if (!result.ok) return;
  await addCosignedNote(redis, caseId, result.cosigned);
  c.out(`stored the cosignature with case ${caseId}: exports include it`);
  if (opts.out) {
    await writeFile(opts.out, result.cosigned, { flag: "wx" });
    c.out(`wrote the cosigned checkpoint to ${opts.out}`);
  }
}

async function witnessBundle(c: CliContext, opts: WitnessOptions): Promise<void> {
  const paths = required(opts);
  const dir = opts.bundle as string;
  const operator = keyError(() => loadVerifier(paths.pubkey));
  let text: string;
  try {
    text = await readFile(join(dir, "checkpoints"), "utf8");
  } catch {
    throw new CliError(`${dir} has no checkpoints file: it is not a signed Warden bundle`, 2);
  }
  const note = largest(splitNotes(text));
  if (!note) throw new CliError(`${dir}/checkpoints holds no readable checkpoint`, 2);
  const origin = parseCheckpoint(note).origin;
  const result = await runWitness(paths, { note, origin, operator }, (m, n) =>
    proveConsistency(bundleLeaves(dir), m, n),
  );
  report(c, result, paths.state);
  if (!result.ok) return;
  await writeFile(opts.out as string, result.cosigned, { flag: "wx" });
  c.out(
    `wrote the cosigned checkpoint to ${opts.out}: the operator stores it with \`warden audit witness import\`, auditors pass it to verify --checkpoint`,
  );
}

/** `witness import`: an operator stores a cosigned checkpoint made on a bundle, after checking it is of this log. */
async function importCosigned(
  c: CliContext,
  file: string,
  opts: { case: string; pubkey?: string },
) {
  const caseId = caseIdOf(opts.case);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new CliError(
      `cannot read ${file}: pass the file \`warden audit witness --bundle … --out\` wrote`,
      2,
    );
  }
  let cp: ReturnType<typeof parseCheckpoint>;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    throw new CliError(`${file} is not a cosigned checkpoint: ${(err as Error).message}`, 2);
  }
  const keyPath = c.config.WARDEN_AUDIT_KEY;
  const operator = opts.pubkey
    ? keyError(() => loadVerifier(opts.pubkey as string))
    : keyPath
      ? verifierOf(keyError(() => loadSigner(keyPath)))
      : undefined;
  if (!operator)
    throw new CliError("pass --pubkey with the log's .pub file, or set WARDEN_AUDIT_KEY", 2);
  if (cp.origin !== checkpointOrigin(caseId))
    throw new CliError(`${file} is a checkpoint of "${cp.origin}", not of case ${caseId}`, 1);
  const unsigned = checkCheckpointSignature(cp, [operator]);
  if (unsigned) throw new CliError(`${file}: ${unsigned}`, 1);
  if (cp.signatures.length < 2)
    throw new CliError(`${file} carries no cosignature, only the log's own signature`, 1);
  const store = await c.openStore({ durable: true });
  const { redis } = store.connection;
  const tree = await consistencyProofFromStore(redis, caseId, cp.size, cp.size).catch(
    (err: unknown) => {
      throw new CliError(`case ${caseId}: ${(err as Error).message}`, 1);
    },
  );
  if (!tree.newRoot.equals(cp.root)) {
    throw new CliError(
      `the first ${cp.size} entries of case ${caseId} do not have the root ${file} cosigns: the log was rewritten since the witness saw it, or the file is of another log; run \`warden audit verify --case ${caseId}\``,
      1,
    );
  }
  await addCosignedNote(redis, caseId, text);
  c.out(
    `stored the cosigned checkpoint of size ${cp.size} with case ${caseId}: exports include it`,
  );
}

export function witnessCommand(ctx: Ctx): Command {
  const cmd = new Command("witness").description(
    "cosign a log's checkpoint with a witness key held outside the operating team, once it is proved to extend the last one cosigned",
  );

  // The default subcommand: `warden audit witness --case …` is `warden audit witness cosign --case …`.
  cmd
    .command("cosign", { isDefault: true })
    .description("cosign the latest checkpoint of a case (--case) or of a bundle (--bundle)")
    .option("--case <id>", "cosign the latest checkpoint of this case's log (needs REDIS_URL)")
    .option("--bundle <dir>", "cosign the checkpoint of an exported bundle, offline")
    .option("--key <file>", "the witness's private key (from `warden audit witness keygen`)")
    .option(
      "--state <dir>",
      "the witness's own state directory: what it cosigned, kept off the server",
    )
    .option("--pubkey <file>", "the operator's .pub file: only checkpoints it signed are cosigned")
    .option("--out <file>", "also write the cosigned checkpoint here (required with --bundle)")
    .action(async (opts: WitnessOptions) => {
      const c = ctx();
      if (opts.bundle !== undefined && opts.case === undefined) await witnessBundle(c, opts);
      else await witnessCase(c, opts);
    });

  cmd
    .command("keygen")
    .description(
      "make the witness's Ed25519 key pair: FILE (private, mode 0600) and FILE.pub (for auditors)",
    )
    .requiredOption(
      "--out <file>",
      "where to write the private key; the public key goes to <file>.pub",
    )
    .option("--name <name>", "the witness's name in cosignatures, e.g. om-oversight", "witness")
    .action((opts: { out: string; name: string }) => {
      const c = ctx();
      const written = keyError(() => writeKeyFiles(opts.out, opts.name, COSIGNATURE_ED25519));
      c.out(
        `witness key: ${written.privatePath} (mode 0600): keep it with oversight, never on the Warden server`,
      );
      c.out(`public key for auditors (verify --witness-pubkey): ${written.publicPath}`);
      c.out(written.verifierKey);
    });

  cmd
    .command("import")
    .description(
      "store a checkpoint a witness cosigned on a bundle with the case, so later exports include it",
    )
    .argument("<file>", "the cosigned checkpoint (`warden audit witness --bundle … --out FILE`)")
    .requiredOption("--case <id>", "the case it is of")
    .option("--pubkey <file>", "the log's .pub file (default: from WARDEN_AUDIT_KEY)")
    .action(async (file: string, opts: { case: string; pubkey?: string }) => {
      await importCosigned(ctx(), file, opts);
    });

  return cmd;
}
