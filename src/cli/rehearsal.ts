import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { addChat, addRole, createCase, setControlRoom } from "../actions/registry.ts";
import { signerForRun, verifierOf } from "../audit/checkpoint.ts";
import { recentEntries } from "../audit/recent.ts";
import { createAuditLog } from "../audit/record.ts";
import { verifyCaseLog } from "../audit/verify-case.ts";
import { createWardenBot, startPolling } from "../bot/create.ts";
import { startSimulator } from "../sim/index.ts";
import { connectRedis } from "../store/redis.ts";

/**
 * A full takeover, rehearsed against the built-in simulator: the shipped world
 * (a seized fireworks group with members who keep chatting), a control room
 * with an operator and a supervisor, and Warden's real bot talking to the
 * simulator over HTTP. The operator's commands are typed for them; everything
 * else happens as it would live, and the audit log is verified at the end.
 */

export interface RehearsalOptions {
  redisUrl?: string;
  worldPath?: string;
  auditKeyPath?: string;
  logger: Logger;
  out(line: string): void;
}

const DEFAULT_WORLD = fileURLToPath(
  new URL("../../scenarios/worlds/fireworks.yaml", import.meta.url),
);

export async function rehearseTakeover(opts: RehearsalOptions): Promise<{ ok: boolean }> {
  const { out } = opts;
  const sim = await startSimulator({ world: opts.worldPath ?? DEFAULT_WORLD, rateLimits: true });
  const control = sim.control;
  const connection = await connectRedis({
    url: opts.redisUrl,
    logger: opts.logger,
    embeddedName: "rehearsal",
  });
  const { signer, notice } = signerForRun({ keyPath: opts.auditKeyPath, live: false });
  if (notice) out(notice);
  const audit = createAuditLog({ redis: connection.redis, signer });
  try {
    const world = sim.sim;
    const token = sim.tokens[0];
    if (!token) throw new Error("the world defines no bot for Warden");
    const botId = Number(token.split(":")[0]);
    const groupId = (await control.chats()).find((c) => c.type === "supergroup")?.id;
    if (groupId === undefined) throw new Error("the world has no supergroup to seize");

    const operator = await control.createUser({
      first_name: "Duty",
      last_name: "Officer",
      language_code: "nl",
    });
    const supervisor = await control.createUser({
      first_name: "Team",
      last_name: "Lead",
      language_code: "nl",
    });
    const room = await control.createChat({
      type: "supergroup",
      title: "Warden control room",
      owner_id: operator.id,
    });
    await control.join(room.id, supervisor.id);
    await control.join(room.id, botId);
    await control.promote(room.id, botId, "all");

    const caseId = `rehearsal-${new Date(world.clock.nowMs()).toISOString().slice(0, 10)}-${Date.now().toString(36)}`;
    const registry = {
      redis: connection.redis,
      audit,
      actor: { kind: "cli" as const, name: "rehearsal" },
    };
    await createCase(registry, {
      id: caseId,
      title: "Rehearsal: fireworks group takeover",
      authority: "REHEARSAL",
      purpose: "rehearse a takeover",
      retentionDays: 1,
    });
    await addRole(registry, caseId, {
      userId: operator.id,
      role: "operator",
      name: "Duty officer",
    });
    await addRole(registry, caseId, {
      userId: supervisor.id,
      role: "supervisor",
      name: "Team lead",
    });
    await addChat(registry, caseId, { chatId: groupId, alias: "fw1" });
    await setControlRoom(registry, caseId, room.id);

    const warden = createWardenBot({
      token,
      apiRoot: sim.apiRoot,
      redis: connection.redis,
      audit,
      logger: opts.logger,
      // The bot's clock follows the simulated one, so 48-hour and expiry rules line up.
      now: () => world.clock.nowMs(),
    });
    await warden.bot.init();
    const runner = startPolling(warden, opts.logger, { timeoutSeconds: 1 });
    try {
      const botSays = async (chatId: number) =>
        (await control.chat(chatId)).messages
          .filter((m) => m.sender_id === botId && !m.is_service)
          .map(
            (m) =>
              m.message as {
                message_id: number;
                text?: string;
                reply_markup?: { inline_keyboard: { callback_data: string }[][] };
              },
          );
      const waitFor = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const value = await check();
          if (value !== undefined) return value;
          if (Date.now() > deadline) throw new Error(`rehearsal stalled waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const operatorTypes = async (text: string, from = operator.id) => {
        const before = (await botSays(room.id)).length;
        out(`\n> operator in control room: ${text}`);
        await control.sendMessage(room.id, { from_id: from, text });
        const answer = await waitFor(`an answer to ${text}`, async () => {
          const now = await botSays(room.id);
          return now.length > before ? now.at(-1) : undefined;
        });
        for (const line of (answer.text ?? "").split("\n")) out(`  bot: ${line}`);
        return answer;
      };

      out(
        `Rehearsal of case ${caseId} on ${sim.apiRoot} (simulated time ${new Date(world.clock.nowMs()).toISOString()})`,
      );
      await operatorTypes("/check fw1");
      const request = await operatorTypes("/lockdown fw1");
      const approve = request.reply_markup?.inline_keyboard[0]?.[0]?.callback_data;
      if (approve) {
        out("> supervisor presses Approve");
        const before = (await botSays(room.id)).length;
        await control.pressButton({
          from_id: supervisor.id,
          chat_id: room.id,
          message_id: request.message_id,
          data: approve,
        });
        const done = await waitFor("the approved lockdown", async () => {
          const now = await botSays(room.id);
          return now.slice(before).find((m) => m.text?.startsWith("approved by"));
        });
        for (const line of (done.text ?? "").split("\n")) out(`  bot: ${line}`);
      }
      await operatorTypes("/freeze fw1 trade");
      await operatorTypes("/warn fw1 takeover pin");

      out("\n… an hour of simulated time passes; members keep writing:");
      const played = await control.advanceClock(3600);
      for (const p of played.played) {
        if (!p.ok) {
          out(`  (refused by Telegram: ${p.description})`);
          continue;
        }
        const m = p.message as {
          from?: { first_name?: string };
          author_signature?: string;
          text?: string;
          caption?: string;
        };
        const who = m.author_signature
          ? `${m.author_signature} (anonymous admin)`
          : (m.from?.first_name ?? "someone");
        out(`  ${who}: ${m.text ?? m.caption ?? "(media)"}`);
      }
      await operatorTypes("/status");
    } finally {
      if (runner.isRunning()) await runner.stop();
      await warden.close();
    }
    await audit.close();

    const group = await control.chat(groupId);
    out("\nWhat members see now:");
    out(`  title: ${group.title}`);
    out(`  pinned: ${group.pinned_message_ids.join(", ") || "nothing"}`);
    out(
      `  may post: ${
        Object.entries(group.permissions as Record<string, boolean>)
          .filter(([, v]) => v)
          .map(([k]) => k)
          .join(", ") || "nothing"
      }`,
    );

    const entries = (await recentEntries(connection.redis, caseId, 100_000)).reverse();
    out(`\nAudit log of ${caseId}: ${entries.length} entries`);
    for (const e of entries.filter((x) => x.phase !== "info" || x.op !== "collect")) {
      const step = typeof e.params?.step === "string" ? ` ${e.params.step}` : "";
      const result = e.result
        ? e.result.ok === true
          ? " ok"
          : ` ${e.result.ok === false ? `failed: ${(e.result as { description?: string }).description}` : "unknown"}`
        : "";
      out(
        `  #${e.seq} ${e.phase.padEnd(7)} ${e.op}${step}${result} (${e.actor.name ?? e.actor.kind})`,
      );
    }
    const report = await verifyCaseLog(connection.redis, caseId, {
      verifiers: [verifierOf(signer)],
    });
    out(
      `\nwarden audit verify: ${report.ok ? "intact" : `FAILED at seq ${report.failure?.seq}: ${report.failure?.message}`} (${report.entries} entries, ${report.signedSize} covered by a signed checkpoint)`,
    );
    for (const w of report.warnings) out(`  warning: ${w.message}`);
    return { ok: report.ok };
  } finally {
    await connection.close();
    await sim.close();
  }
}
