/**
 * Conversations on @grammyjs/conversations: two members talking to the bot
 * at the same moment each get their own dialogue in their own language;
 * answers that are not answers (a command, a photo, a choice not offered)
 * are refused politely and the question stands; a member who never answers
 * is let go when the question times out on the simulated clock; a dialogue
 * held as replies in the group ignores the member's other messages. Every
 * answer is kept as evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Staged, stageRehearsal } from "./helpers.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
let s: Staged;

beforeAll(async () => {
  s = await stageRehearsal({
    worldPath: `${fixtures}worlds/two-groups.yaml`,
    scenariosDir: fixtures,
    scenario: "talk",
  });
  await s.r.operatorSays("/scenario start talk fw1");
}, 60_000);
afterAll(async () => {
  await s?.r.close();
});

type Msg = {
  message_id: number;
  text?: string;
  reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> };
  reply_to_message?: { message_id: number };
};

async function botSaid(chatId: number): Promise<Msg[]> {
  const chat = await s.r.control.chat(chatId);
  return chat.messages
    .filter((m) => m.sender_id === s.r.botId && !m.is_service)
    .map((m) => m.message as Msg);
}
const texts = async (chatId: number) => (await botSaid(chatId)).map((m) => m.text);

async function writes(userId: number, input: { text?: string; photo?: boolean }): Promise<void> {
  await s.r.control.sendMessage(userId, { from_id: userId, ...input } as {
    from_id: number;
    text: string;
  });
}

async function later(seconds: number): Promise<void> {
  await s.r.advanceTo(s.r.sim.sim.clock.nowMs() + seconds * 1000);
  await s.r.settle();
  await s.r.warden.scenarios.tick();
  await s.r.settle();
}

const kees = () => s.r.users.kees as number;
const joan = () => s.r.users.joan as number;
const piet = () => s.r.users.piet as number;

describe("scenario conversations", () => {
  it("talks with two members at once, each in their own language and state", async () => {
    await Promise.all([writes(kees(), { text: "hallo?" }), writes(joan(), { text: "hello?" })]);
    await s.r.settle();
    expect(await texts(kees())).toEqual(["Hoe heet u?"]);
    expect(await texts(joan())).toEqual(["What is your name?"]);

    // Not answers: a command, a photo. The question stands.
    await Promise.all([writes(joan(), { text: "/start" }), writes(kees(), { photo: true })]);
    await s.r.settle();
    expect((await texts(joan())).at(-1)).toBe(
      "That is a command, not an answer. Please answer the question.",
    );
    expect((await texts(kees())).at(-1)).toBe("Antwoord alstublieft met tekst.");

    await Promise.all([writes(kees(), { text: "Kees" }), writes(joan(), { text: "Joan" })]);
    await s.r.settle();
    expect((await texts(kees())).at(-1)).toBe("Heeft u iets gekocht, Kees?");
    expect((await texts(joan())).at(-1)).toBe("Did you buy anything, Joan?");
    const question = (await botSaid(joan())).at(-1);
    expect(question?.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      "Yes",
      "No",
    ]);

    // A choice not offered is refused; a typed label counts; a button counts.
    await writes(kees(), { text: "misschien" });
    await s.r.settle();
    expect((await texts(kees())).at(-1)).toBe(
      "Kies alstublieft een van de knoppen, of typ een van de antwoorden.",
    );
    const yes = question?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data as string;
    await Promise.all([
      writes(kees(), { text: "NEE" }),
      s.r.control.pressButton({
        from_id: joan(),
        chat_id: joan(),
        message_id: question?.message_id as number,
        data: yes,
      }),
    ]);
    await s.r.settle();
    expect((await texts(kees())).at(-1)).toBe("Goed zo.");
    expect((await texts(joan())).at(-1)).toBe("Hand it in to the police.");

    const answers = (await s.entries()).filter(
      (e) => e.op === "collect" && e.params?.purpose === "scenario conversation answer",
    );
    expect(answers.map((e) => [e.target?.user_ids?.[0], e.params?.name])).toEqual(
      expect.arrayContaining([
        [kees(), "name"],
        [joan(), "name"],
        [kees(), "choice"],
        [joan(), "choice"],
      ]),
    );
    const evidence = Object.values(await s.r.redis.hgetall(`warden:{${s.r.caseId}}:evidence`)).map(
      (v) => JSON.parse(v) as { name: string; answer: string; from: { id: number } },
    );
    expect(evidence.filter((e) => e.from.id === kees()).map((e) => [e.name, e.answer])).toEqual(
      expect.arrayContaining([
        ["name", "Kees"],
        ["choice", "no"],
      ]),
    );
  });

  it("lets a member go who never answers, when the question times out", async () => {
    await writes(piet(), { text: "wat is dit" });
    await s.r.settle();
    await writes(piet(), { text: "Piet" });
    await s.r.settle();
    expect((await texts(piet())).at(-1)).toBe("Heeft u iets gekocht, Piet?");
    await later(9 * 60);
    expect((await texts(piet())).at(-1)).toBe("Heeft u iets gekocht, Piet?");
    await later(2 * 60);
    expect((await texts(piet())).at(-1)).toBe("U antwoordde niet op tijd.");
    const timeouts = (await s.entries()).filter((e) => e.op === "conversation.timeout");
    expect(timeouts.map((e) => e.target?.user_ids)).toEqual([[piet()]]);
    // A late answer starts a new conversation rather than reviving the old one.
    await writes(piet(), { text: "ja" });
    await s.r.settle();
    expect((await texts(piet())).at(-1)).toBe("Hoe heet u?");
  });

  it("holds a dialogue as replies in the group, ignoring the member's other messages", async () => {
    const group = s.r.aliases.fw1 as number;
    const asked = await s.r.control.sendMessage(group, {
      from_id: kees(),
      text: "help, wat moet ik doen",
    });
    await s.r.settle();
    const question = (await botSaid(group)).at(-1);
    expect(question?.text).toBe("Kees, wat is de code van vier cijfers?");
    expect(question?.reply_to_message?.message_id).toBe(asked.message_id);
    await s.r.control.sendMessage(group, { from_id: kees(), text: "even iets anders" });
    await s.r.control.sendMessage(group, {
      from_id: kees(),
      text: "12ab",
      reply_to_message_id: question?.message_id,
    });
    await s.r.settle();
    expect((await texts(group)).slice(-2)).toEqual([
      "Kees, wat is de code van vier cijfers?",
      "Dat antwoord begrijp ik niet. Probeer het opnieuw.",
    ]);
    await s.r.control.sendMessage(group, {
      from_id: kees(),
      text: "1234",
      reply_to_message_id: question?.message_id,
    });
    await s.r.settle();
    expect((await texts(group)).at(-1)).toBe("Dank u.");
    const evidence = Object.values(await s.r.redis.hgetall(`warden:{${s.r.caseId}}:evidence`)).map(
      (v) => JSON.parse(v) as { name: string; answer: string },
    );
    expect(evidence).toContainEqual(expect.objectContaining({ name: "code", answer: "1234" }));
  });
});
