import { showInvisible } from "../../base/html.ts";
import type { SimClient } from "../../sim/index.ts";
import type { ScriptEntry } from "../rehearsal-world.ts";
import type { Names } from "../transcript.ts";
import { idOf, type WorldIds } from "./cast.ts";
import { buttonsOf } from "./keyboard.ts";

/**
 * What members do besides posting in groups (the world's timeline plays
 * that): an entry of the rehearsal script — write to the bot, press one of
 * its buttons, ask to join — played through the simulator and printed.
 */
export interface MemberStage {
  control: SimClient;
  clock: { now(): number };
  botId: number;
  world: WorldIds;
  names: Names;
  /** Prints what happened so far, then what the member does (see `./follow.ts`). */
  act(at: number, line: string): Promise<void>;
}

export async function playEntry(entry: ScriptEntry, on: MemberStage): Promise<void> {
  if ("private" in entry) await writeToBot(entry, on);
  else if ("press" in entry) await pressBotButton(entry, on);
  else await askToJoin(entry, on);
}

async function writeToBot(
  entry: Extract<ScriptEntry, { private: string }>,
  on: MemberStage,
): Promise<void> {
  const userId = idOf(on.world, "user", entry.private);
  const input = entry.photo
    ? { from_id: userId, photo: true as const, ...(entry.text ? { caption: entry.text } : {}) }
    : { from_id: userId, text: entry.text ?? "" };
  const text = showInvisible(entry.text ?? "");
  await on.act(
    on.clock.now(),
    entry.photo
      ? `${on.names.user(userId)} sends Warden a photo${text ? `: ${text}` : ""}`
      : `${on.names.user(userId)} writes to Warden: ${text}`,
  );
  await on.control.sendMessage(userId, input);
}

/** Presses the button with the entry's text under the bot's latest message that has one. */
async function pressBotButton(
  entry: Extract<ScriptEntry, { press: string }>,
  on: MemberStage,
): Promise<void> {
  const at = on.clock.now();
  const userId = idOf(on.world, "user", entry.press);
  const dialog = await on.control.chat(userId).catch(() => undefined);
  const named = (m: { message: unknown }) =>
    buttonsOf(m.message)?.find((b) => b.text === entry.button);
  const target = [...(dialog?.messages ?? [])]
    .reverse()
    .find((m) => m.sender_id === on.botId && named(m) !== undefined);
  const data = target && named(target)?.callback_data;
  if (!target || !data) {
    await on.act(
      at,
      `${on.names.user(userId)} looks for a “${entry.button}” button under Warden's messages, but Warden showed none (nothing is pressed)`,
    );
    return;
  }
  await on.act(
    at,
    `${on.names.user(userId)} presses “${entry.button}” under Warden's message${showInvisible(questionOf(target.message))}`,
  );
  await on.control.pressButton({
    from_id: userId,
    chat_id: userId,
    message_id: target.message.message_id,
    data,
  });
}

async function askToJoin(
  entry: Extract<ScriptEntry, { join_request: string }>,
  on: MemberStage,
): Promise<void> {
  const chatId = idOf(on.world, "chat", entry.join_request);
  const userId = idOf(on.world, "user", entry.from);
  await on.act(on.clock.now(), `${on.names.user(userId)} asks to join ${on.names.chat(chatId)}`);
  await on.control.requestToJoin(chatId, userId);
}

/** ` “the question”`: the first line of the message a button is under. */
function questionOf(message: unknown): string {
  const text = (message as { text?: string }).text?.split("\n")[0];
  return text ? ` “${text}”` : "";
}
