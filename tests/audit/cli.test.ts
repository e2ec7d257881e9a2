import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  addChat,
  addRole,
  createCase,
  removeRole,
  setControlRoom,
} from "../../src/actions/case-changes.ts";
import { loadSigner } from "../../src/audit/checkpoint.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { auditCommand } from "../../src/cli/commands/audit.ts";
import { CliError, createCliContext } from "../../src/cli/context.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/** Runs `warden audit …` as main.ts would, returning the exit code and what was printed. */
async function warden(args: string[], env: Record<string, string>) {
  const lines: string[] = [];
  const ctx = {
    ...createCliContext({ LOG_LEVEL: "silent", ...env }),
    out: (l: string) => lines.push(l),
  };
  const program = new Command("warden").exitOverride().addCommand(auditCommand(() => ctx));
  for (const sub of program.commands) {
    sub.exitOverride();
    for (const c of sub.commands) c.exitOverride();
  }
  try {
    await program.parseAsync(["audit", ...args], { from: "user" });
    return { code: 0, out: lines, err: "" };
  } catch (err) {
    return {
      code: err instanceof CliError ? err.exitCode : 1,
      out: lines,
      err: (err as Error).message,
    };
  } finally {
    await ctx.close();
  }
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "warden-cli-"));
  const key = join(dir, "audit.key");
  const url = await freshRedisUrl();
  const made = await warden(["keygen", "--out", key, "--name", "warden-test"], {});
  expect(made.code).toBe(0);
  return { dir, key, url, env: { REDIS_URL: url, WARDEN_AUDIT_KEY: key } };
}

describe("warden audit", () => {
  it("keygen refuses to overwrite a key", async () => {
    const { key } = await setup();
    const again = await warden(["keygen", "--out", key], {});
    expect(again).toMatchObject({ code: 2, err: expect.stringMatching(/already exists/) });
  });

  it("CLI mutations of the registry show up as verified entries; an action without the role fails verify", async () => {
    const { key, url, env, dir } = await setup();
    const redis = new Redis(url);
    const log = createAuditLog({ redis, signer: loadSigner(key), checkpointEvery: 3 });
    const deps = { redis, audit: log, actor: { kind: "cli" as const, name: "alice@server" } };
    await createCase(deps, {
      id: "op-cli",
      title: "CLI",
      authority: "order 3/25",
      purpose: "test",
      retentionDays: 90,
    });
    await addRole(deps, "op-cli", { userId: 5550001, role: "operator", name: "Officer A" });
    await addChat(deps, "op-cli", { chatId: -1001234567890, alias: "fw1" });
    await setControlRoom(deps, "op-cli", -1009999);
    const officer = {
      kind: "operator" as const,
      id: 5550001,
      name: "Officer A",
      role: "operator" as const,
    };
    await log.record({
      case: "op-cli",
      actor: officer,
      op: "warn",
      phase: "info",
      target: { chat_id: -1001234567890 },
    });
    await removeRole(deps, "op-cli", 5550001);
    await log.close();

    const ok = await warden(["verify", "--case", "op-cli", "--pubkey", `${key}.pub`], env);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out.at(-1)).toMatch(/audit log of case op-cli: INTACT: 6 entries, signed up to 6/);
    const ops = Object.values(await redis.hgetall("warden:{op-cli}:audit:entries")).map(
      (e) => JSON.parse(e).op,
    );
    expect(ops.sort()).toEqual(
      ["case.create", "chat.add", "config", "role.add", "role.remove", "warn"].sort(),
    );

    const late = createAuditLog({ redis, signer: loadSigner(key) });
    await late.record({ case: "op-cli", actor: officer, op: "warn", phase: "info" });
    await late.close();
    const bad = await warden(["verify", "--case", "op-cli"], env);
    expect(bad).toMatchObject({
      code: 1,
      err: expect.stringMatching(
        /FAILED at seq 7: .*user 5550001 acted as operator but held no role/,
      ),
    });

    // And the same log exported: a bundle that fails shows it too.
    const out = join(dir, "bundle");
    const exported = await warden(
      ["export", "--case", "op-cli", "--out", out, "--justification", "internal review"],
      env,
    );
    expect(exported.code).toBe(1);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('"status":"failed"');
    redis.disconnect();
  });

  it("export then verify --bundle passes; an edited bundle fails naming the file", async () => {
    const { key, url, env, dir } = await setup();
    const redis = new Redis(url);
    const log = createAuditLog({ redis, signer: loadSigner(key) });
    await createCase(
      { redis, audit: log, actor: { kind: "cli", name: "bob@server" } },
      {
        id: "op-exp",
        title: "Export",
        authority: "order 4/25",
        purpose: "test",
        retentionDays: 90,
      },
    );
    await log.close();
    redis.disconnect();
    const out = join(dir, "bundle");
    const exported = await warden(
      [
        "export",
        "--case",
        "op-exp",
        "--out",
        out,
        "--justification",
        "court order 5/25",
        "--recipient",
        "Court A",
        "--recipient",
        "Defence",
      ],
      env,
    );
    expect(exported.err).toBe("");
    expect(exported.out[0]).toMatch(/logged the export as seq 2 \(disclose to Court A, Defence\)/);
    const verified = await warden(["verify", "--bundle", out, "--pubkey", `${key}.pub`], {});
    expect(verified).toMatchObject({ code: 0, err: "" });
    expect(verified.out.at(-1)).toMatch(/INTACT: 2 entries, signed up to 2/);

    const held = join(dir, "held-checkpoints");
    writeFileSync(held, readFileSync(join(out, "checkpoints")));
    expect((await warden(["verify", "--case", "op-exp", "--checkpoint", held], env)).code).toBe(0);

    const csv = join(out, "entries.csv");
    writeFileSync(csv, readFileSync(csv, "utf8").replace("Export", "Exp0rt"));
    const edited = await warden(["verify", "--bundle", out, "--pubkey", `${key}.pub`], {});
    expect(edited).toMatchObject({
      code: 1,
      err: expect.stringMatching(/entries\.csv was changed after export/),
    });

    const again = await warden(
      ["export", "--case", "op-exp", "--out", out, "--justification", "x"],
      env,
    );
    expect(again).toMatchObject({ code: 2, err: expect.stringMatching(/not empty/) });
  });

  it("exits 2 with one clear line for an unknown case, a missing key file, or neither --case nor --bundle", async () => {
    const { env, dir } = await setup();
    expect(await warden(["verify", "--case", "op-nope"], env)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^unknown case "op-nope"/),
    });
    expect(
      await warden(["verify", "--case", "op-nope", "--pubkey", join(dir, "missing.pub")], env),
    ).toMatchObject({
      code: 2,
      err: expect.stringMatching(/missing\.pub does not exist/),
    });
    expect(await warden(["verify", "--case", "x", "--bundle", dir], env)).toMatchObject({
      code: 2,
    });
    expect(
      await warden(
        ["export", "--case", "op-nope", "--out", join(dir, "o"), "--justification", "j"],
        env,
      ),
    ).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown case/),
    });
    const noKey = await warden(["verify", "--case", "op-x"], {
      ...env,
      WARDEN_AUDIT_KEY: join(dir, "gone.key"),
    });
    expect(noKey).toMatchObject({
      code: 2,
      err: expect.stringMatching(/gone\.key does not exist: create one with `warden audit keygen/),
    });
  });
});
