import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { addRole, createCase, setControlRoom } from "../../src/actions/case-changes.ts";
import { writeKeyFiles } from "../../src/audit/checkpoint.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { eventually } from "../helpers/warden.ts";

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));
let sim: RunningSimulator | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await sim?.close();
});

describe("warden start, live", () => {
  it("refuses to start live without an audit signing key", async () => {
    const result = await runWarden(["start"], {
      BOT_TOKEN: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
      REDIS_URL: await freshRedisUrl(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("a live run needs an audit signing key");
  });

  it("closes actions a crash interrupted as unknown, tells the control room, polls, and stops cleanly", async () => {
    sim = await startSimulator({ rateLimits: false });
    const c = sim.control;
    const { token, user: bot } = await c.createBot({ username: "warden_bot" });
    const operator = await c.createUser({ first_name: "Duty" });
    const { id: room } = await c.createChat({
      type: "supergroup",
      title: "Room",
      owner_id: operator.id,
    });
    await c.join(room, bot.id);

    const redisUrl = await freshRedisUrl();
    const redis = new Redis(redisUrl);
    const audit = createAuditLog({ redis });
    const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
    await createCase(deps, {
      id: "op-fw",
      title: "t",
      authority: "OM-1",
      purpose: "p",
      retentionDays: 30,
    });
    await addRole(deps, "op-fw", { userId: operator.id, role: "operator", name: "Duty officer" });
    await setControlRoom(deps, "op-fw", room);
    // The previous process wrote an intent and died before Telegram answered.
    await audit.record({
      case: "op-fw",
      actor: { kind: "operator", id: operator.id, name: "Duty officer", role: "operator" },
      op: "warn",
      phase: "intent",
      target: { chat_id: -100123, alias: "fw1" },
      params: { step: "send" },
    });
    await audit.close();

    const key = join(mkdtempSync(join(tmpdir(), "warden-key-")), "audit.key");
    writeKeyFiles(key, "warden-test");
    child = spawn(process.execPath, [bin, "start"], {
      env: {
        PATH: process.env.PATH ?? "",
        WARDEN_ENV_FILE: "none",
        BOT_TOKEN: token,
        REDIS_URL: redisUrl,
        TELEGRAM_API_ROOT: sim.apiRoot,
        WARDEN_AUDIT_KEY: key,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout?.on("data", (d: Buffer) => {
      logs += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      logs += d.toString();
    });

    const alert = await eventually(async () => {
      const messages = (await c.chat(room)).messages.filter(
        (m) => m.sender_id === bot.id && !m.is_service,
      );
      return messages
        .map((m) => (m.message as { text?: string }).text ?? "")
        .find((t) => t.includes("Warden restarted"));
    }, 20_000);
    expect(alert).toContain("warn send on fw1");
    await eventually(async () => (await c.bot(bot.id)).polling, 20_000);

    const exited = new Promise<number | null>((resolve) =>
      child?.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(logs).toContain("Warden is running live");
    expect(logs).not.toContain(token);

    const entries = await auditEntries(redis, "op-fw");
    const closed = entries.find((e) => e.phase === "outcome" && e.op === "warn");
    expect(closed?.result).toMatchObject({ ok: "unknown" });
    await expectLogVerifies(redis, "op-fw");
    redis.disconnect();
  });
});
