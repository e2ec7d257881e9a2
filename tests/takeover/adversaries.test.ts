/**
 * The README's promises, attacked the way a reviewer would: an operator of
 * another case, a stranger, and the same officers after their case was
 * closed. Each test drives the real bot through the simulator (and the real
 * `warden` CLI where the server's administrator acts) with real Redis.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { addRole, createCase, setControlRoom } from "../../src/actions/case-changes.ts";
import { runAction } from "../../src/actions/catalog.ts";
import { actionEnv } from "../../src/actions/context.ts";
import type { AuditEntry } from "../../src/audit/entry.ts";
import { type CaseRecord, getCase, listChats, type SeizedChat } from "../../src/store/cases.ts";
import { collectKeys } from "../../src/store/keys.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { runWarden } from "../helpers/cli.ts";
import {
  botMessages,
  command,
  eventually,
  type Stage,
  settled,
  startStage,
} from "../helpers/warden.ts";

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.stop();
  stage = undefined;
});

function cli(s: Stage, args: string[]) {
  return runWarden(args, { REDIS_URL: s.redisUrl });
}

async function press(s: Stage, from: number, chatId: number, messageId: number, data: string) {
  const { callback_query_id } = await s.control.pressButton({
    from_id: from,
    chat_id: chatId,
    message_id: messageId,
    data,
  });
  return eventually(async () => {
    const a = await s.control.callbackAnswer(callback_query_id);
    return a.answered ? (a.answer ?? {}) : undefined;
  });
}

/** The newest message in the control room that carries buttons. */
async function lastRequest(s: Stage): Promise<{ message_id: number; approve: string }> {
  const m = (await s.control.chat(s.room)).messages
    .map(
      (x) =>
        x.message as {
          message_id: number;
          reply_markup?: { inline_keyboard: { callback_data: string }[][] };
        },
    )
    .filter((x) => x.reply_markup)
    .at(-1);
  const approve = m?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data;
  if (!m || !approve) throw new Error("no approval request in the control room");
  return { message_id: m.message_id, approve };
}

const ops = (entries: AuditEntry[], op: string) => entries.filter((e) => e.op === op);

describe("a closed case does nothing", () => {
  it("starts no scenario, runs no approval granted after the close, and its running scenario stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-closed-"));
    writeFileSync(
      join(dir, "answer.yaml"),
      [
        "id: answer",
        "title: Answer every cobra",
        "version: 1",
        "languages: [nl]",
        "rights: []",
        "templates:",
        '  stop: { nl: "Stop, {member}." }',
        "phases:",
        "  - id: only",
        "    steps:",
        "      - wait: 7d",
        "    triggers:",
        "      - on: message",
        "        keywords: [cobra]",
        "        do:",
        "          - reply: stop",
        "",
      ].join("\n"),
    );
    stage = await startStage({ scenariosDir: dir });
    const s = stage;
    expect(await command(s, s.room, s.operator, "/scenario start answer fw1")).toMatch(
      /^started answer/,
    );
    // Requested while the case is open, to be approved after it closed.
    expect(await command(s, s.room, s.operator, "/lockdown fw1")).toContain("Approval needed");
    const request = await lastRequest(s);

    const closed = await cli(s, ["case", "close", s.caseId, "--yes"]);
    expect(closed.stderr).toBe("");
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain("1 scenario run(s) aborted, 1 pending approval(s) expired");

    const answer = await press(s, s.supervisor.id, s.room, request.message_id, request.approve);
    expect(answer).toMatchObject({
      text: `case ${s.caseId} is closed: nothing acts in it any more`,
    });
    const before = (await botMessages(s, s.group)).length;
    await s.control.sendMessage(s.group, { from_id: s.alice.id, text: "cobra 6 te koop" });
    await command(s, s.room, s.operator, "/scenario start answer fw1", { expectAnswer: false });
    await command(s, s.room, s.operator, "/freeze fw1", { expectAnswer: false });
    await settled(s);

    const group = await s.control.chat(s.group);
    expect(group.title).toBe("Vuurwerk Deals NL");
    // Nothing new is collected in a closed case.
    const kept = Object.values(await s.redis.hgetall(collectKeys.messages(s.caseId, s.group)));
    expect(kept.some((m) => m.includes("cobra 6 te koop"))).toBe(false);
    expect(group.permissions).toMatchObject({ can_send_messages: true });
    expect((await botMessages(s, s.group)).length).toBe(before);
    const entries = await auditEntries(s.redis, s.caseId);
    const close = entries.find((e) => e.op === "case.close") as AuditEntry;
    const after = entries.filter((e) => e.seq > close.seq);
    expect(ops(after, "scenario.abort")).toMatchObject([{ params: { reason: "case closed" } }]);
    expect(ops(after, "approval.expire")).toMatchObject([{ params: { reason: "case closed" } }]);
    expect(after.filter((e) => e.phase === "intent")).toEqual([]);
    expect(ops(after, "scenario.start")).toEqual([]);
    expect(ops(after, "approval.grant")).toEqual([]);
    expect(after.filter((e) => e.phase === "refused").map((e) => e.op)).toEqual(
      expect.arrayContaining(["approval.answer", "command.scenario", "command.freeze"]),
    );
    await expectLogVerifies(s.redis, s.caseId);
  });

  it("refuses an action whose caller read the case before it was closed (the atomic check)", async () => {
    stage = await startStage();
    const s = stage;
    const stale = await getCase(s.redis, s.caseId); // read while open
    const chat = (await listChats(s.redis, s.caseId))[0];
    expect((await cli(s, ["case", "close", s.caseId, "--yes"])).code).toBe(0);
    const env = actionEnv({
      redis: s.redis,
      audit: s.audit,
      api: s.warden.bot.api,
      logger: pino({ level: "silent" }),
      now: Date.now,
    });
    const report = await runAction(
      env,
      {
        case: stale as CaseRecord,
        chat: chat as SeizedChat,
        actor: { kind: "operator", id: s.operator.id, name: "Duty officer 1" },
        idempotencyKey: "stale-request",
      },
      "freeze",
      { mode: "full" },
    );
    expect(report.ok).toBe(false);
    expect(report.summary).toContain(`case ${s.caseId} is closed`);
    expect((await s.control.chat(s.group)).permissions).toMatchObject({ can_send_messages: true });
    const entries = await auditEntries(s.redis, s.caseId);
    expect(entries.filter((e) => e.op === "freeze")).toEqual([]);
  });

  it("refuses to close without --yes when nobody is at a terminal, and says what closing does", async () => {
    stage = await startStage();
    const s = stage;
    const refused = await cli(s, ["case", "close", s.caseId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `warden: warden case close changes case ${s.caseId} for good: run it on a terminal to confirm, or add --yes`,
    );
    expect((await cli(s, ["case", "show", s.caseId])).stdout).toContain("(open)");
  });
});

describe("cases do not cross", () => {
  /** A second case with its own operator and control room, in the same Warden. */
  async function caseB(s: Stage) {
    const deps = { redis: s.redis, audit: s.audit, actor: { kind: "cli" as const, name: "test" } };
    await createCase(deps, {
      id: "op-drugs",
      title: "Drugsgroep",
      authority: "OM-2026-0999",
      purpose: "stop trade",
      retentionDays: 30,
    });
    const officerB = await s.control.createUser({ first_name: "Bea", username: "bea_b" });
    const { id: roomB } = await s.control.createChat({
      type: "supergroup",
      title: "Control B",
      owner_id: officerB.id,
    });
    await s.control.join(roomB, s.botUser.id);
    await s.control.promote(roomB, s.botUser.id, "all");
    await s.control.join(roomB, s.operator.id); // A's operator sits in B's room too
    await addRole(deps, "op-drugs", { userId: officerB.id, role: "operator", name: "Officer B" });
    await setControlRoom(deps, "op-drugs", roomB);
    return { officerB, roomB };
  }

  it("an operator of case A cannot seize case B's control room, and B goes on undisturbed", async () => {
    stage = await startStage();
    const s = stage;
    const { officerB, roomB } = await caseB(s);
    await s.control.sendMessage(s.operator.id, { from_id: s.operator.id, text: "/start" });
    await command(s, roomB, s.operator, `/seize ${s.caseId} x`, { answerIn: s.operator.id });
    const answer = (await botMessages(s, s.operator.id)).at(-1)?.text ?? "";
    expect(answer).toBe("this chat cannot be seized: it already has a role in a case");
    expect(answer).not.toContain("op-drugs");
    expect((await listChats(s.redis, s.caseId)).map((c) => c.chatId)).toEqual([s.group]);
    // B's operator is answered in B's room, and nothing of B went into A's log.
    expect(await command(s, roomB, officerB, "/status")).toContain("case op-drugs");
    const aLog = await auditEntries(s.redis, s.caseId);
    expect(aLog.some((e) => e.target?.chat_id === roomB)).toBe(false);
    // B's room traffic is no evidence of A's.
    await s.control.sendMessage(roomB, { from_id: officerB.id, text: "vergadering om 10u" });
    await settled(s);
    const keys = await s.redis.keys(`warden:{${s.caseId}}:chat:${roomB}:*`);
    expect(keys).toEqual([]);
  });

  it("warden chat add refuses control rooms, private chats and other cases' chats without naming them", async () => {
    stage = await startStage();
    const s = stage;
    const { roomB } = await caseB(s);
    const room = await cli(s, ["chat", "add", s.caseId, String(roomB), "--alias", "x"]);
    expect(room.code).toBe(2);
    expect(room.stderr).toContain("cannot be seized: it already has a role in a case");
    expect(room.stderr).not.toContain("op-drugs");
    const person = await cli(s, ["chat", "add", s.caseId, String(s.alice.id), "--alias", "y"]);
    expect(person.code).toBe(2);
    expect(person.stderr).toContain("is a person's private chat");
    const other = await cli(s, ["chat", "add", "op-drugs", String(s.group), "--alias", "z"]);
    expect(other.code).toBe(2);
    expect(other.stderr).not.toContain(s.caseId);
    expect(other.stderr).not.toContain("fw1");
    const roomOfB = await cli(s, ["control-room", "set", "op-drugs", String(s.group)]);
    expect(roomOfB.code).toBe(2);
    expect(roomOfB.stderr).toContain("already has a role in a case");
  });

  it("/seize in another case's seized chat says nothing about that case, and changes nothing", async () => {
    stage = await startStage();
    const s = stage;
    const { officerB } = await caseB(s);
    await s.control.join(s.group, officerB.id);
    await s.control.sendMessage(officerB.id, { from_id: officerB.id, text: "/start" });
    await command(s, s.group, officerB, "/seize op-drugs mine", { answerIn: officerB.id });
    const answer = (await botMessages(s, officerB.id)).at(-1)?.text ?? "";
    expect(answer).toBe("this chat cannot be seized: it already has a role in a case");
    expect(answer).not.toContain(s.caseId);
    expect(await listChats(s.redis, "op-drugs")).toEqual([]);
  });
});

describe("strangers learn nothing and cannot flood a log", () => {
  it("an approval button pressed by a stranger gets an empty answer and changes nothing", async () => {
    stage = await startStage();
    const s = stage;
    await command(s, s.room, s.operator, "/lockdown fw1");
    const request = await lastRequest(s);
    expect(await press(s, s.stranger.id, s.room, request.message_id, request.approve)).toEqual({});
    const entries = await auditEntries(s.redis, s.caseId);
    expect(entries.filter((e) => e.op === "approval.grant")).toEqual([]);
    expect(entries.filter((e) => e.op === "approval.answer" && e.phase === "refused")).toHaveLength(
      1,
    );
  });

  it("a hundred /seize attempts by one stranger add seven entries; sixty strangers add a bounded number", async () => {
    stage = await startStage();
    const s = stage;
    const before = (await auditEntries(s.redis, s.caseId)).length;
    for (let i = 0; i < 100; i++)
      await s.control.sendMessage(s.stranger.id, {
        from_id: s.stranger.id,
        text: `/seize ${s.caseId}`,
      });
    await settled(s);
    const refusedSince = async (from: number) =>
      (await auditEntries(s.redis, s.caseId)).slice(from).filter((e) => e.phase === "refused");
    // Confirmed to Telegram once persisted; the command's refusal is handled just after.
    const one = await eventually(async () => {
      const found = await refusedSince(before);
      return found.length >= 7 ? found : undefined;
    }, 60_000);
    // Updates are handled concurrently, so the entries may come in any order; the counts may not.
    const attempts = (list: AuditEntry[]) =>
      list.map((e) => Number(e.params?.attempts)).sort((a, b) => a - b);
    expect(attempts(one)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(await botMessages(s, s.stranger.id)).toEqual([]);

    const mid = (await auditEntries(s.redis, s.caseId)).length;
    for (let i = 0; i < 60; i++) {
      const u = await s.control.createUser({ first_name: `Spam${i}` });
      await s.control.sendMessage(u.id, { from_id: u.id, text: `/seize ${s.caseId}` });
    }
    await settled(s);
    const many = await eventually(async () => {
      const found = await refusedSince(mid);
      return found.length >= 53 ? found : undefined;
    }, 60_000);
    // 49 more people with an entry each (the first stranger is one of the 50), then everyone else
    // counted together: their 1st, 2nd, 4th and 8th attempts.
    expect(many.filter((e) => e.params?.counted_with === undefined)).toHaveLength(49);
    expect(attempts(many.filter((e) => e.params?.counted_with === "others"))).toEqual([1, 2, 4, 8]);
  });
});
