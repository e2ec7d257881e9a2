import type { Update } from "grammy/types";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { getMemberRecord, type StoredMessage } from "../../src/collect/queries.ts";
import { createRoster } from "../../src/collect/roster.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { eventually, type Stage, settled, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

async function stored(chatId: number, messageId: number): Promise<StoredMessage | undefined> {
  const raw = await stage.redis.hget(collectKeys.messages(stage.caseId, chatId), String(messageId));
  return raw ? (JSON.parse(raw) as StoredMessage) : undefined;
}

async function versions(chatId: number, messageId: number): Promise<StoredMessage[]> {
  const raw = await stage.redis.lrange(
    collectKeys.messageVersions(stage.caseId, chatId, messageId),
    0,
    -1,
  );
  return raw.map((r) => JSON.parse(r) as StoredMessage);
}

const HOSTILE_NAMES = [
  '<b>bold</b> & <a href="x">',
  "\u202Eevil\u202C",
  "Al\u200Bice",
  "🔥🎆🔥",
  '=HYPERLINK("http://x")',
];

describe("the recorder", () => {
  it("keeps hostile names exactly, every version of an edited message, and a 4,096-character text", async () => {
    const people = [];
    for (const name of HOSTILE_NAMES) {
      const user = await stage.control.createUser({ first_name: name, last_name: "\u2066x\u2069" });
      await stage.control.join(stage.group, user.id);
      people.push(user);
    }
    const sent = [];
    for (const user of people)
      sent.push(
        await stage.control.sendMessage(stage.group, { from_id: user.id, text: user.first_name }),
      );
    const long = "€".repeat(4096);
    const big = await stage.control.sendMessage(stage.group, { from_id: stage.bob.id, text: long });
    const first = sent[0] as { message_id: number };
    await stage.control.editMessage(stage.group, first.message_id, { text: "edit one" });
    await stage.control.editMessage(stage.group, first.message_id, { text: "edit two" });
    await eventually(async () => (await versions(stage.group, first.message_id)).length === 2);

    for (const [i, user] of people.entries()) {
      const record = await getMemberRecord(stage.redis, stage.caseId, user.id);
      expect(record?.profile?.first_name).toBe(HOSTILE_NAMES[i]);
      expect(record?.profile?.last_name).toBe("\u2066x\u2069");
      expect(record?.names).toHaveLength(1);
      expect(record?.counts.text).toBe(1);
    }
    expect((await stored(stage.group, big.message_id))?.message.text).toBe(long);
    // The first version stays as it was; each edit is a version of its own, in order.
    expect((await stored(stage.group, first.message_id))?.message.text).toBe(HOSTILE_NAMES[0]);
    expect(
      (await versions(stage.group, first.message_id)).map((v) => [v.message.text, v.edited]),
    ).toEqual([
      ["edit one", true],
      ["edit two", true],
    ]);
    const creator = await getMemberRecord(stage.redis, stage.caseId, people[0]?.id as number);
    expect(creator?.counts.edits).toBe(2);
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("keeps name changes as history, invite-link joins with the link's name and creator, and join requests with their bio", async () => {
    const link = await stage.warden.bot.api.createChatInviteLink(stage.group, {
      name: "promo-zomer",
    });
    const requests = await stage.warden.bot.api.createChatInviteLink(stage.group, {
      name: "aanvragen",
      creates_join_request: true,
    });
    const carol = await stage.control.createUser({ first_name: "Carol", username: "carol_knal" });
    await stage.control.join(stage.group, carol.id, { invite_link: link.invite_link });
    await stage.control.sendMessage(stage.group, { from_id: carol.id, text: "hoi" });
    await stage.control.updateUser(carol.id, { first_name: "Caro", username: "caro_vuur" });
    await stage.control.sendMessage(stage.group, { from_id: carol.id, text: "hoi weer" });
    const dave = await stage.control.createUser({ first_name: "Dave" });
    await stage.control.requestToJoin(stage.group, dave.id, {
      bio: "verkoop <b>cobra</b> 📦",
      invite_link: requests.invite_link,
    });
    await settled(stage);

    const record = await eventually(async () => {
      const r = await getMemberRecord(stage.redis, stage.caseId, carol.id);
      return r && r.names.length === 2 ? r : undefined;
    });
    expect(record.names.map((n) => [n.first_name, n.username])).toEqual([
      ["Carol", "carol_knal"],
      ["Caro", "caro_vuur"],
    ]);
    expect(record.profile?.username).toBe("caro_vuur");
    expect(record.status.map((s) => s.status)).toContain("member");
    // Both usernames still find her: a renamed seller is still the same seller.
    for (const name of ["carol_knal", "caro_vuur"])
      expect(await stage.redis.hget(collectKeys.usernames(stage.caseId), name)).toBe(
        String(carol.id),
      );

    const events = (await stage.redis.xrange(collectKeys.events(stage.caseId), "-", "+")).map(
      ([, f]) => JSON.parse(f[1] as string) as Record<string, unknown>,
    );
    const join = events.find((e) => e.kind === "member-status" && e.user_id === carol.id);
    expect(join?.invite_link).toMatchObject({ name: "promo-zomer", creator_id: stage.botUser.id });
    const request = events.find((e) => e.kind === "join-request");
    expect(request).toMatchObject({
      user_id: dave.id,
      bio: "verkoop <b>cobra</b> 📦",
      invite_link: { name: "aanvragen" },
    });
  });

  it("attributes anonymous-admin and channel posts to the sender chat, never to a stand-in account", async () => {
    await stage.control.promote(
      stage.group,
      stage.alice.id,
      { is_anonymous: true, can_delete_messages: true },
      { custom_title: "Baas" },
    );
    const anon = await stage.control.sendMessage(stage.group, {
      from_id: stage.alice.id,
      text: "anoniem",
      anonymous: true,
    });
    const { id: channel } = await stage.control.createChat({
      type: "channel",
      title: "Knallers Kanaal",
      owner_id: stage.bob.id,
    });
    const asChannel = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "via kanaal",
      sender_chat_id: channel,
    });
    await eventually(async () => (await stored(stage.group, asChannel.message_id)) !== undefined);

    const anonStored = await stored(stage.group, anon.message_id);
    expect(anonStored?.message.author_signature).toBe("Baas");
    expect(anonStored?.message.sender_chat?.id).toBe(stage.group);
    const members = await stage.redis.zrange(collectKeys.members(stage.caseId), 0, -1);
    expect(members).not.toContain("1087968824");
    expect(members).not.toContain("136817688");
    const senders = await stage.redis.hgetall(collectKeys.senderChats(stage.caseId));
    expect(Object.keys(senders).sort()).toEqual([String(channel), String(stage.group)].sort());
    expect(JSON.parse(senders[String(channel)] as string)).toMatchObject({
      title: "Knallers Kanaal",
    });
    const counts = await stage.redis.hgetall(collectKeys.senderChatCounts(stage.caseId));
    expect(counts[`${channel}:count:text`]).toBe("1");
    // Purging by sender finds the channel's posts.
    expect(
      await stage.redis.zrange(collectKeys.messagesFrom(stage.caseId, stage.group, channel), 0, -1),
    ).toEqual([String(asChannel.message_id)]);
  });

  it("keeps updates with no sender, and changes nothing when an update is delivered twice", async () => {
    const sent = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "5 cobra 6 voor 50 euro, dm",
    });
    await eventually(async () => (await stored(stage.group, sent.message_id)) !== undefined);
    const first = (await stored(stage.group, sent.message_id)) as StoredMessage;
    expect(first.offer?.rules.length).toBeGreaterThan(0);
    const before = await getMemberRecord(stage.redis, stage.caseId, stage.bob.id);
    expect(before?.counts.offers).toBe(1);

    // The same update again (as Telegram redelivers after a crash): nothing changes.
    // Stored messages leave out the chat (it is their key); Telegram's redelivery carries it.
    const chat = { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" };
    const again = { update_id: first.update_id, message: { ...first.message, chat } } as Update;
    await stage.warden.bot.handleUpdate(again);
    expect(await getMemberRecord(stage.redis, stage.caseId, stage.bob.id)).toEqual(before);

    // A message with neither `from` nor `sender_chat`: kept, attributed to nobody.
    const orphan: Update = {
      update_id: 900_000_001,
      message: {
        message_id: 777_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" },
        text: "zonder afzender",
      } as never,
    };
    await stage.warden.bot.handleUpdate(orphan);
    expect((await stored(stage.group, 777_001))?.message.text).toBe("zonder afzender");
    await stage.warden.recorder.flush();
    const collected = (await auditEntries(stage.redis, stage.caseId))
      .filter((e) => e.op === "collect")
      .flatMap((e) => e.update_ids ?? []);
    expect(collected.filter((id) => id === first.update_id)).toHaveLength(1);
    expect(collected).toContain(900_000_001);
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("reads the admin roster when a chat is first seen and after a promotion, and the member count when people join", async () => {
    await stage.control.sendMessage(stage.group, { from_id: stage.alice.id, text: "hallo" });
    const snapshots = async () =>
      (await stage.redis.xrange(collectKeys.admins(stage.caseId), "-", "+")).map(
        ([, f]) =>
          JSON.parse(f[1] as string) as {
            reason: string;
            admins: { user_id: number; status: string }[];
          },
      );
    const first = await eventually(async () => (await snapshots())[0]);
    expect(first.admins.map((a) => a.user_id)).toEqual(
      expect.arrayContaining([stage.owner.id, stage.botUser.id]),
    );
    await stage.control.promote(stage.group, stage.bob.id, { can_delete_messages: true });
    const second = await eventually(async () => (await snapshots())[1]);
    expect(second.reason).toBe("admin change");
    expect(second.admins.map((a) => a.user_id)).toContain(stage.bob.id);

    // The stage's joins, queued before polling began, started the member-count timeline.
    const counts = await eventually(async () => {
      const all = await stage.redis.xrange(collectKeys.memberCounts(stage.caseId), "-", "+");
      return all.length > 0
        ? all.map(([, f]) => JSON.parse(f[1] as string) as { count: number })
        : undefined;
    });
    expect(counts.at(-1)?.count).toBe(await stage.warden.bot.api.getChatMemberCount(stage.group));
    const entries = await auditEntries(stage.redis, stage.caseId);
    expect(entries.some((e) => e.op === "collect" && e.params?.what === "admin roster")).toBe(true);
  });

  it("keeps an update it cannot read whole instead of stalling on it", async () => {
    // A member list that is not a list: its facts cannot be read, so the update is kept raw.
    const odd = {
      update_id: 920_000_001,
      message: {
        message_id: 990_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" },
        new_chat_members: 5,
      },
    } as unknown as Update;
    await stage.warden.bot.handleUpdate(odd);
    const raw = (await stage.redis.xrange(collectKeys.events(stage.caseId), "-", "+"))
      .map(([, f]) => JSON.parse(f[1] as string) as { kind: string; update_id: number })
      .filter((e) => e.kind === "raw-update");
    expect(raw.map((e) => e.update_id)).toEqual([920_000_001]);
    const after = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "daarna",
    });
    await eventually(async () => (await stored(stage.group, after.message_id)) !== undefined);
  });

  it("reads the admin roster of a chat as soon as /seize binds it", async () => {
    const { id: other } = await stage.control.createChat({
      type: "supergroup",
      title: "Knal Markt",
      owner_id: stage.owner.id,
    });
    await stage.control.join(other, stage.operator.id);
    await stage.control.join(other, stage.botUser.id);
    await stage.control.promote(other, stage.botUser.id, "all");
    await stage.control.sendMessage(other, {
      from_id: stage.operator.id,
      text: "/seize op-fw fw3",
    });
    const snapshot = await eventually(async () => {
      for (const [, f] of await stage.redis.xrange(collectKeys.admins(stage.caseId), "-", "+")) {
        const s = JSON.parse(f[1] as string) as {
          chat_id: number;
          reason: string;
          admins: { user_id: number }[];
        };
        if (s.chat_id === other) return s;
      }
      return undefined;
    });
    expect(snapshot.reason).toBe("seized");
    expect(snapshot.admins.map((a) => a.user_id).sort()).toEqual(
      [stage.owner.id, stage.botUser.id].sort(),
    );
  });

  it("reads member counts at most once per interval per chat, and once more after it for what changed meanwhile", async () => {
    // A case of its own, so the stage's recorder (which counts members too) writes elsewhere.
    const actor = { kind: "cli" as const, name: "test" };
    await createCase(
      { redis: stage.redis, audit: stage.audit, actor },
      { id: "op-count", title: "t", authority: "OM-2", purpose: "p", retentionDays: 30 },
    );
    const roster = createRoster({
      api: stage.warden.bot.api,
      audit: stage.audit,
      logger: pino({ level: "silent" }),
      now: Date.now,
      countIntervalMs: 300,
    });
    const key = collectKeys.memberCounts("op-count");
    roster.count("op-count", stage.group, "test");
    await eventually(async () => (await stage.redis.xlen(key)) === 1);
    const newcomer = await stage.control.createUser({ first_name: "Nieuw" });
    await stage.control.join(stage.group, newcomer.id);
    // Two more requests soon after: one more read, after the interval, not two.
    roster.count("op-count", stage.group, "test");
    roster.count("op-count", stage.group, "test");
    await eventually(async () => (await stage.redis.xlen(key)) === 2);
    const last = await stage.redis.xrevrange(key, "+", "-", "COUNT", 1);
    expect(JSON.parse(last[0]?.[1][1] as string).count).toBe(
      await stage.warden.bot.api.getChatMemberCount(stage.group),
    );
    await roster.close();
    expect(await stage.redis.xlen(key)).toBe(2);
  });

  it("keeps private messages in the case where the sender was seen, and unseen senders in every open case", async () => {
    await stage.control.sendMessage(stage.group, { from_id: stage.alice.id, text: "in de groep" });
    await eventually(
      async () => (await getMemberRecord(stage.redis, stage.caseId, stage.alice.id)) !== undefined,
    );
    const known = await stage.control.sendMessage(stage.alice.id, {
      from_id: stage.alice.id,
      text: "ik wil praten",
    });
    const stranger = await stage.control.createUser({ first_name: "Onbekend" });
    const unknown = await stage.control.sendMessage(stranger.id, {
      from_id: stranger.id,
      text: "wie zijn jullie?",
    });
    const fromAlice = await eventually(() => stored(stage.alice.id, known.message_id));
    expect(fromAlice).toMatchObject({ attribution: "seen", message: { text: "ik wil praten" } });
    const fromStranger = await eventually(() => stored(stranger.id, unknown.message_id));
    expect(fromStranger.attribution).toBe("unseen");
    expect(await stage.redis.smembers(collectKeys.privateChats(stage.caseId))).toEqual(
      expect.arrayContaining([String(stage.alice.id), String(stranger.id)]),
    );
    expect((await getMemberRecord(stage.redis, stage.caseId, stranger.id))?.counts.private).toBe(1);
  });
});
