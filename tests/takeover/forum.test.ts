import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { runAction } from "../../src/actions/catalog.ts";
import { check, formatCheck } from "../../src/actions/check.ts";
import { actionEnv } from "../../src/actions/context.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { knownTopics } from "../../src/collect/topics.ts";
import { type CaseRecord, getCase, listChats, type SeizedChat } from "../../src/store/cases.ts";
import { auditEntries } from "../helpers/audit.ts";
import {
  approveLatestRequest,
  botMessages,
  command,
  eventually,
  type Stage,
  settled,
  startStage,
} from "../helpers/warden.ts";

/**
 * Warden in a seized forum: it learns the topics from what it sees, lockdown
 * closes every topic it knows open and General, and release reopens exactly
 * those — through the simulator over HTTP, with the real bot and real Redis.
 */

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.stop();
  stage = undefined;
});

async function scopeOf(s: Stage, key: string) {
  const record = (await getCase(s.redis, s.caseId)) as CaseRecord;
  const chat = (await listChats(s.redis, s.caseId))[0] as SeizedChat;
  const env = actionEnv({
    redis: s.redis,
    audit: s.audit,
    api: s.warden.bot.api,
    logger: pino({ level: "silent" }),
    now: Date.now,
  });
  const scope = {
    case: record,
    chat,
    actor: { kind: "operator" as const, id: s.operator.id, name: "Duty officer 1" },
    idempotencyKey: key,
  };
  return { env, scope };
}

async function topicStates(s: Stage) {
  return s.control.topics(s.group);
}

describe("a seized forum", () => {
  it("learns its topics from service messages and topic messages, with their names", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const verkoop = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    const vraag = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Vraag" });
    await s.control.sendMessage(s.group, {
      from_id: s.alice.id,
      text: "iemand cobra's?",
      message_thread_id: vraag.message_thread_id,
    });
    await s.control.editTopic(s.group, verkoop.message_thread_id, { name: "Verkoop NL" });
    await s.control.closeTopic(s.group, vraag.message_thread_id);
    await settled(s);
    const topics = await eventually(async () => {
      const known = await knownTopics(s.redis, s.caseId, s.group);
      return known.length === 2 && known.some((t) => t.closed) ? known : undefined;
    });
    expect(topics.map((t) => ({ id: t.id, name: t.name, closed: t.closed }))).toEqual([
      { id: verkoop.message_thread_id, name: "Verkoop NL", closed: false },
      { id: vraag.message_thread_id, name: "Vraag", closed: true },
    ]);
  });

  it("lockdown closes every known open topic and General (hidden when asked); release reopens exactly those", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const open = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    const closedBefore = await s.control.createTopic(s.group, {
      from_id: s.owner.id,
      name: "Archief",
    });
    const doomed = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Reviews" });
    await s.control.closeTopic(s.group, closedBefore.message_thread_id);
    await settled(s);
    await eventually(async () => {
      const known = await knownTopics(s.redis, s.caseId, s.group);
      return known.length === 3 && known.some((t) => t.closed);
    });

    const { env, scope } = await scopeOf(s, "lockdown-1");
    const locked = await runAction(env, scope, "lockdown", { noPhoto: true, hideGeneral: true });
    expect(locked.ok).toBe(true);
    expect(locked.summary).toContain("General closed and hidden, topics closed: 2 topics");
    let states = await topicStates(s);
    expect(states.general).toMatchObject({ is_closed: true, is_hidden: true });
    for (const t of states.topics) expect(t.is_closed).toBe(true);

    // The owner deletes a topic Warden holds as closed-by-lockdown: release goes on without it.
    await s.control.deleteTopic(s.group, doomed.message_thread_id);
    const released = await runAction(env, { ...scope, idempotencyKey: "release-1" }, "release", {});
    expect(released.ok).toBe(true);
    expect(released.summary).toContain("1 deleted meanwhile (Telegram: TOPIC_ID_INVALID)");
    states = await topicStates(s);
    expect(states.general).toMatchObject({ is_closed: false, is_hidden: false });
    const byId = new Map(states.topics.map((t) => [t.message_thread_id, t]));
    expect(byId.get(open.message_thread_id)?.is_closed).toBe(false);
    // Closed before the takeover: stays closed.
    expect(byId.get(closedBefore.message_thread_id)?.is_closed).toBe(true);

    const outcomes = (await auditEntries(s.redis, s.caseId)).filter(
      (e) => e.op === "release" && e.phase === "outcome",
    );
    const gone = outcomes.find(
      (e) => (e.params as { step: string }).step === `reopen-topic ${doomed.message_thread_id}`,
    );
    expect(gone?.result).toMatchObject({
      ok: true,
      result: "gone",
      telegram: "Bad Request: TOPIC_ID_INVALID",
    });
    const known = await knownTopics(s.redis, s.caseId, s.group);
    expect(known.find((t) => t.id === doomed.message_thread_id)?.deleted).toBe(true);
  });

  it("takes a topic already closed (TOPIC_NOT_MODIFIED) as done, and not as one to reopen", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const topic = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    await settled(s);
    await eventually(async () => (await knownTopics(s.redis, s.caseId, s.group)).length === 1);
    // Closed by its owner in a way Warden has not yet seen (the update still queued).
    await s.warden.bot.api.closeForumTopic(s.group, topic.message_thread_id);
    const { env, scope } = await scopeOf(s, "lockdown-2");
    const locked = await runAction(env, scope, "lockdown", { noPhoto: true });
    expect(locked.ok).toBe(true);
    const step = locked.steps.find((x) => x.step === `close-topic ${topic.message_thread_id}`);
    expect(step?.detail).toEqual({
      result: "already",
      telegram: "Bad Request: TOPIC_NOT_MODIFIED",
    });
    const released = await runAction(env, { ...scope, idempotencyKey: "release-2" }, "release", {});
    expect(released.ok).toBe(true);
    expect(released.steps.map((x) => x.step)).not.toContain(
      `reopen-topic ${topic.message_thread_id}`,
    );
    expect((await topicStates(s)).topics[0]?.is_closed).toBe(true);
  });

  it("without can_manage_topics: lockdown says which right to ask for, and /check tells", async () => {
    stage = await startStage({
      forum: true,
      botRights: {
        can_change_info: true,
        can_invite_users: true,
        can_restrict_members: true,
        can_delete_messages: true,
        can_pin_messages: true,
      },
    });
    const s = stage;
    await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    await settled(s);
    await eventually(async () => (await knownTopics(s.redis, s.caseId, s.group)).length === 1);
    const { env, scope } = await scopeOf(s, "lockdown-3");
    const locked = await runAction(env, scope, "lockdown", { noPhoto: true });
    expect(locked.ok).toBe(false);
    expect(locked.summary).toContain(
      "not done: close-general: the bot lacks can_manage_topics in fw1: ask the owner account to grant it",
    );
    const report = await check(env, scope);
    expect(report.manageTopics).toBe(false);
    expect(report.missing.lockdown).toContain("can_manage_topics");
    expect(formatCheck(report).join("\n")).toContain("the bot lacks can_manage_topics");
  });

  it("during lockdown closes a topic created then (kept closed at release) and one first seen then (reopened)", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const unseen = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Oud" });
    await settled(s);
    // As if the topic had been made before the bot joined: Warden knows nothing of it.
    await s.redis.del(collectKeys.topics(s.caseId, s.group));
    const { env, scope } = await scopeOf(s, "lockdown-4");
    expect((await runAction(env, scope, "lockdown", { noPhoto: true })).ok).toBe(true);
    expect((await topicStates(s)).topics[0]?.is_closed).toBe(false);

    await s.control.sendMessage(s.group, {
      from_id: s.alice.id,
      text: "nog open hier?",
      message_thread_id: unseen.message_thread_id,
    });
    const created = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Nieuw" });
    await settled(s);
    await eventually(async () => {
      const topics = (await topicStates(s)).topics;
      return topics.length === 2 && topics.every((t) => t.is_closed);
    });
    const guarded = (await auditEntries(s.redis, s.caseId)).filter(
      (e) => e.op === "lockdown" && e.phase === "intent" && e.actor.kind === "system",
    );
    expect(guarded.map((e) => (e.params as { why: string }).why).sort()).toEqual([
      "created during lockdown",
      "first seen during lockdown",
    ]);

    const released = await runAction(env, { ...scope, idempotencyKey: "release-4" }, "release", {});
    expect(released.ok).toBe(true);
    const byId = new Map((await topicStates(s)).topics.map((t) => [t.message_thread_id, t]));
    expect(byId.get(unseen.message_thread_id)?.is_closed).toBe(false);
    expect(byId.get(created.message_thread_id)?.is_closed).toBe(true);
  });

  it("posts and pins a warning in General and, when asked, in one topic by title or in every topic", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const verkoop = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    const vraag = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Vraag" });
    await settled(s);
    await eventually(async () => (await knownTopics(s.redis, s.caseId, s.group)).length === 2);
    const { env, scope } = await scopeOf(s, "warn-1");
    const one = await runAction(env, scope, "warn", {
      template: "takeover",
      pin: true,
      topic: "verkoop",
    });
    expect(one.ok).toBe(true);
    expect(one.summary).toBe("warning posted in fw1 (General and 1 topic) and pinned");
    const all = await runAction(env, { ...scope, idempotencyKey: "warn-2" }, "warn", {
      template: "trade",
      allTopics: true,
    });
    expect(all.ok).toBe(true);
    const posted = (await s.control.chat(s.group)).messages
      .filter((m) => m.sender_id === s.botUser.id && !m.is_service)
      .map((m) => m.message as { message_id: number; message_thread_id?: number });
    const threads = posted.map((m) => m.message_thread_id ?? 1);
    expect(threads).toEqual([
      1,
      verkoop.message_thread_id,
      1,
      verkoop.message_thread_id,
      vraag.message_thread_id,
    ]);
    const pinned = (await s.control.chat(s.group)).pinned_message_ids;
    expect([...pinned].sort((a, b) => a - b)).toEqual(posted.slice(0, 2).map((m) => m.message_id));
    await expect(
      runAction(env, { ...scope, idempotencyKey: "warn-3" }, "warn", { topic: "Reviews" }),
    ).rejects.toThrow('fw1 has no topic "Reviews" that Warden has seen: topics: Verkoop, Vraag');
  });
  it("takes hide-general and all-topics from an operator's commands", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const verkoop = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    await settled(s);
    await eventually(async () => (await knownTopics(s.redis, s.caseId, s.group)).length === 1);

    const warned = await command(s, s.room, s.operator, "/warn fw1 trade pin all-topics");
    expect(warned).toBe("warning posted in fw1 (General and 1 topic) and pinned");
    const threads = (await s.control.chat(s.group)).messages
      .filter((m) => m.sender_id === s.botUser.id && !m.is_service)
      .map((m) => (m.message as { message_thread_id?: number }).message_thread_id ?? 1);
    expect(threads).toEqual([1, verkoop.message_thread_id]);

    expect(await command(s, s.room, s.operator, "/lockdown fw1 hide-genral")).toContain(
      'usage: /lockdown [hide-general] — "hide-genral" is not an option',
    );
    await command(s, s.room, s.operator, "/lockdown fw1 hide-general");
    await approveLatestRequest(s);
    const states = await eventually(async () => {
      const now = await topicStates(s);
      return now.general.is_hidden ? now : undefined;
    });
    expect(states.general).toMatchObject({ is_closed: true, is_hidden: true });
    expect(states.topics.every((t) => t.is_closed)).toBe(true);
  });
  it("purges a topic's messages by its title, evidence first, and leaves the other topics and General", async () => {
    stage = await startStage({ forum: true });
    const s = stage;
    const verkoop = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    const vraag = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Vraag" });
    const say = (text: string, thread?: number) =>
      s.control.sendMessage(s.group, {
        from_id: s.alice.id,
        text,
        ...(thread ? { message_thread_id: thread } : {}),
      });
    const offers = [
      await say("cobra 6, 5 voor 50", verkoop.message_thread_id),
      await say("romeinse kaarsen, dm", verkoop.message_thread_id),
    ];
    const others = [
      await say("hoi allemaal"),
      await say("wie weet iets?", vraag.message_thread_id),
    ];
    await settled(s);
    await eventually(async () => (await knownTopics(s.redis, s.caseId, s.group)).length === 2);

    // A member who types the command in the group, and a stranger in the control room: no reply,
    // nothing deleted (the operator's purge below is the first deleteMessages call).
    await command(s, s.group, s.bob, "/purge topic Verkoop", { expectAnswer: false });
    await command(s, s.room, s.stranger, "/purge fw1 topic Verkoop", { expectAnswer: false });
    await settled(s);
    expect(await s.control.calls(0, { method: "deleteMessages" })).toEqual([]);
    expect(await botMessages(s, s.group)).toEqual([]);
    expect(await command(s, s.room, s.operator, "/purge fw1 topic Reviews")).toContain(
      'fw1 has no topic "Reviews" that Warden has seen: topics: Verkoop, Vraag',
    );
    expect(await command(s, s.room, s.operator, "/purge fw1 topic verkoop")).toContain("fw1");
    const snapshot = await s.control.chat(s.group);
    const gone = (id: number) =>
      snapshot.messages.some(
        (m) => (m.message as { message_id: number }).message_id === id && m.deleted,
      );
    expect(offers.map((m) => gone(m.message_id))).toEqual([true, true]);
    expect(others.map((m) => gone(m.message_id))).toEqual([false, false]);
    // The topic itself (its creation) is not touched, and each message was captured first.
    expect(gone(verkoop.message_thread_id)).toBe(false);
    for (const m of offers)
      expect(
        await s.redis.hexists(collectKeys.evidence(s.caseId), `${s.group}:${m.message_id}`),
      ).toBe(1);
  });
});
