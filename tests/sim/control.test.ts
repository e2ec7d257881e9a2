/**
 * Control API routes not covered elsewhere: loading a world over HTTP,
 * renaming users, reactions, edits, reset, and the CLI helper.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runSimulatorCli, SimControlError } from "../../src/sim/index.ts";
import { apiCaller, type Cast, drainUpdates, startCast } from "./helpers.ts";

let cast: Cast | undefined;
afterEach(async () => {
  await cast?.sim.close();
  cast = undefined;
});

type Update = Record<string, Record<string, unknown>>;

describe("control API", () => {
  it("loads a YAML world over HTTP, replacing the previous one", async () => {
    cast = await startCast();
    const yaml = readFileSync(new URL("../fixtures/worlds/small.yaml", import.meta.url), "utf8");
    const loaded = await cast.sim.control.loadWorld(yaml);
    expect(loaded.bots.map((b) => b.username)).toEqual(["warden_test_bot"]);
    expect(Object.keys(loaded.users)).toEqual(["owner", "sanne", "tom", "muted"]);
    const chats = await cast.sim.control.chats();
    expect(chats.map((c) => c.title)).toEqual(["Knallers 2027"]);
    const me = await apiCaller(
      cast.sim.apiRoot,
      loaded.bots[0]?.token ?? "",
    )<{ username: string }>("getMe");
    expect(me.body.result?.username).toBe("warden_test_bot");
    expect((await cast.api("getMe")).status).toBe(401);
  });

  it("renames users, and bots see the new names", async () => {
    cast = await startCast();
    const renamed = await cast.sim.control.updateUser(cast.alice.id, {
      first_name: "Alicia",
      username: null,
    });
    expect(renamed).toEqual({
      id: cast.alice.id,
      is_bot: false,
      first_name: "Alicia",
      language_code: "en",
    });
    const member = await cast.api<{ user: Record<string, unknown> }>("getChatMember", {
      chat_id: cast.group,
      user_id: cast.alice.id,
    });
    expect(member.body.result?.user).toEqual(renamed);
    await expect(
      cast.sim.control.updateUser(cast.alice.id, { username: "johan_deals" }),
    ).rejects.toThrow(SimControlError);
  });

  it("reports reactions and edits to an admin bot that asked for them", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    await cast.api("getUpdates", {
      allowed_updates: ["message", "edited_message", "message_reaction"],
    });
    await drainUpdates(cast.api);
    const offer = await c.sendMessage(cast.group, {
      from_id: cast.alice.id,
      text: "Cobra 6, 15 euro",
    });
    await c.react(cast.group, offer.message_id, cast.bob.id, ["👍"]);
    await c.editMessage(cast.group, offer.message_id, { text: "Cobra 6, 12 euro" });
    const updates = (await drainUpdates(cast.api)) as Update[];
    expect(updates.map((u) => Object.keys(u)[1])).toEqual([
      "message",
      "message_reaction",
      "edited_message",
    ]);
    expect(updates[1]?.message_reaction).toMatchObject({
      message_id: offer.message_id,
      user: { id: cast.bob.id },
      old_reaction: [],
      new_reaction: [{ type: "emoji", emoji: "👍" }],
    });
    expect(updates[2]?.edited_message).toMatchObject({
      text: "Cobra 6, 12 euro",
      edit_date: expect.any(Number),
    });
    const snapshot = await c.chat(cast.group);
    expect(snapshot.messages.find((m) => m.message.message_id === offer.message_id)?.edits).toEqual(
      [{ at: expect.any(Number), text: "Cobra 6, 15 euro" }],
    );
  });

  it("lets the owner demote the bot with empty rights, which the bot hears as my_chat_member", async () => {
    cast = await startCast();
    await drainUpdates(cast.api);
    await cast.sim.control.promote(cast.group, cast.bot.id, {});
    const [update] = (await drainUpdates(cast.api)) as Update[];
    expect(update?.my_chat_member).toMatchObject({
      from: { id: cast.owner.id },
      old_chat_member: { status: "administrator", can_restrict_members: true },
      new_chat_member: { status: "member", user: { id: cast.bot.id } },
    });
    const refused = await cast.api("restrictChatMember", {
      chat_id: cast.group,
      user_id: cast.bob.id,
      permissions: {},
    });
    expect(refused.body.description).toBe(
      "Bad Request: not enough rights to restrict/unrestrict chat member",
    );
  });

  it("resets to an empty world", async () => {
    cast = await startCast();
    await cast.sim.control.reset();
    expect(await cast.sim.control.chats()).toEqual([]);
    expect(await cast.sim.control.calls()).toEqual([]);
    expect((await cast.api("getMe")).status).toBe(401);
  });
});

describe("the simulated clock", () => {
  /** Posts a raw body to POST /sim/clock, so tests can send what the typed client would not. */
  async function postClock(body: string) {
    const url = `${cast?.sim.url}/sim/clock`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it.each([
    ["far beyond any date", '{"advance_seconds":1e308}'],
    ["more than ten years", `{"advance_seconds":${10 * 365 * 86400 + 1}}`],
    ["a trillion seconds", '{"advance_seconds":1e12}'],
    ["a negative number", '{"advance_seconds":-1}'],
    ["infinity (1e999 in JSON)", '{"advance_seconds":1e999}'],
    ["minus infinity", '{"advance_seconds":-1e999}'],
    ["a numeric string", '{"advance_seconds":"60"}'],
    ["a word", '{"advance_seconds":"soon"}'],
    ["true", '{"advance_seconds":true}'],
    ["an array", '{"advance_seconds":[60]}'],
    ["null", '{"advance_seconds":null}'],
    ["no field", "{}"],
  ])("refuses to move by %s and keeps running", async (_, body) => {
    cast = await startCast();
    const before = await cast.sim.control.clock();
    const refused = await postClock(body);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      ok: false,
      error_code: 400,
      description: expect.stringContaining("advance_seconds must be a number of seconds from 0 to"),
    });
    expect(await cast.sim.control.clock()).toEqual(before);
    const moved = await cast.sim.control.advanceClock(60);
    expect(moved.now).toBe(before.now + 60);
  });

  it("moves by up to ten years at once, in fractions of a second too", async () => {
    cast = await startCast();
    const start = Date.UTC(2027, 0, 1) / 1000;
    await cast.sim.control.loadWorld({ start });
    const tenYears = 10 * 365 * 86400;
    expect((await cast.sim.control.advanceClock(tenYears)).now).toBe(start + tenYears);
    expect((await cast.sim.control.advanceClock(0.5)).now).toBe(start + tenYears);
    expect((await cast.sim.control.advanceClock(0.5)).now).toBe(start + tenYears + 1);
    expect((await cast.sim.control.advanceClock(0)).now).toBe(start + tenYears + 1);
  });

  it("refuses to move past the last date JavaScript can represent", async () => {
    cast = await startCast();
    const lastSecond = 8.64e12;
    await cast.sim.control.loadWorld({ start: lastSecond - 60 });
    const refused = await postClock('{"advance_seconds":61}');
    expect(refused.status).toBe(400);
    expect(refused.body.description).toContain("+275760-09-13T00:00:00.000Z");
    expect((await cast.sim.control.advanceClock(60)).iso).toBe("+275760-09-13T00:00:00.000Z");
  });

  it("refuses a world that starts where the clock cannot be, and keeps the current one", async () => {
    cast = await startCast();
    const before = await cast.sim.control.clock();
    const chats = await cast.sim.control.chats();
    for (const start of [1e300, 8.64e12 + 1, -8.64e12 - 1, "not a date"]) {
      const refused = cast.sim.control.loadWorld({ start });
      await expect(refused).rejects.toThrow(/invalid start/);
    }
    expect(await cast.sim.control.clock()).toEqual(before);
    expect(await cast.sim.control.chats()).toEqual(chats);
  });
});

describe("runSimulatorCli", () => {
  it("prints the API root and the bot tokens of the world", async () => {
    const lines: string[] = [];
    const running = await runSimulatorCli({
      port: 0,
      world: new URL("../fixtures/worlds/small.yaml", import.meta.url).pathname,
      print: (line) => lines.push(line),
    });
    try {
      expect(lines).toContain(`TELEGRAM_API_ROOT=${running.apiRoot}`);
      expect(lines.some((l) => l.startsWith("BOT_TOKEN=7000000001:"))).toBe(true);
      const me = await fetch(`${running.apiRoot}/bot${running.tokens[0]}/getMe`);
      expect(me.status).toBe(200);
    } finally {
      await running.close();
    }
  });
});
