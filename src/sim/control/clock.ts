/**
 * Moving the simulated clock. Timeline messages that fall due are played in
 * order, each stamped with its own scheduled time, before the clock settles
 * on the target.
 */
import type { TgMessage } from "../bot-api-objects.ts";
import { isClockTime, LATEST_MS } from "../clock.ts";
import { ControlError, controlInvalid } from "../errors.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import type { ChatState } from "../model.ts";
import type { ScheduledMessage, Simulator } from "../simulator.ts";
import { nameTopic, withReply, withTopic } from "../world/load.ts";
import { postMemberAlbum, postMemberMessage } from "../world/member-messages.ts";
import { memberCreatesTopic } from "../world/topics.ts";

/** A timeline message played: posted, or refused with Telegram's reason and what was tried. */
export type PlayedMessage =
  | { ok: true; at: number; chat_id: number; message: TgMessage }
  | { ok: false; at: number; chat_id: number; description: string; input: MemberMessageInput };

/**
 * The most one move may advance the clock: ten years of 365 days. That is
 * longer than any ban, restriction, retention or delete window a rehearsal
 * needs to cross; a larger number is a mistake (1e308 once stopped the clock
 * for good, as the time became Infinity).
 */
export const MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600;

/** A value as the refusal quotes it: numbers as JavaScript prints them, the rest as JSON, cut short. */
function quote(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** What to do instead, for the mistakes that have an obvious fix. */
function advanceHint(value: unknown): string {
  if (typeof value === "string") return "; send it as a JSON number";
  if (typeof value !== "number") return "";
  if (value < 0) return "; the simulated clock only moves forward";
  if (Number.isFinite(value) && value > MAX_ADVANCE_SECONDS) {
    return "; move further in steps of at most ten years";
  }
  return "";
}

/** `advance_seconds` as given: a number (fractions allowed) from 0 to ten years, nothing else. */
export function requireAdvanceSeconds(value: unknown): number {
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= 0 &&
    value <= MAX_ADVANCE_SECONDS;
  if (valid) return value;
  throw controlInvalid(
    `advance_seconds must be a number of seconds from 0 to ${MAX_ADVANCE_SECONDS} (ten years), got ${quote(value)}${advanceHint(value)}`,
  );
}

/**
 * Plays one timeline entry: a member's message, an album (one played message
 * per item, in item order), or a topic a member opens (its
 * forum_topic_created message). Refusals are thrown as ControlError.
 */
function playEntry(sim: Simulator, chat: ChatState, next: ScheduledMessage): TgMessage[] {
  const input = withTopic(sim, withReply(sim, next.input, next.replyTo), next.topic, chat.id);
  let messages: TgMessage[];
  if (next.newTopic) {
    const topic = memberCreatesTopic(sim, chat, input.from_id, {
      name: next.newTopic.name,
      ...(next.newTopic.iconColor !== undefined ? { iconColor: next.newTopic.iconColor } : {}),
    });
    nameTopic(sim, chat.id, next.newTopic.key ?? next.newTopic.name, topic.id);
    const root = chat.messages.get(topic.id);
    messages = root ? [root.message] : [];
  } else if (next.album) {
    messages = postMemberAlbum(sim, chat, { ...input, ...next.album }).map((s) => s.message);
  } else {
    messages = [postMemberMessage(sim, chat, input).message];
  }
  const first = messages[0];
  if (next.label && first) sim.labels.set(next.label, [chat.id, first.message_id]);
  return messages;
}

/** Moves the clock by `seconds` (see requireAdvanceSeconds), playing the timeline messages that fall due. */
export function advanceClock(
  sim: Simulator,
  seconds: unknown,
): { now: number; played: PlayedMessage[] } {
  const targetMs = sim.clock.nowMs() + requireAdvanceSeconds(seconds) * 1000;
  if (!isClockTime(targetMs)) {
    throw controlInvalid(
      `the simulated clock can't pass ${new Date(LATEST_MS).toISOString()}, the last date JavaScript can represent, and stands at ${new Date(sim.clock.nowMs()).toISOString()}; reset the simulator or load a world that starts earlier`,
    );
  }
  const played: PlayedMessage[] = [];
  for (;;) {
    const next = sim.timeline[0];
    if (!next || next.at * 1000 > targetMs) break;
    sim.timeline.shift();
    sim.clock.set(Math.max(sim.clock.nowMs(), next.at * 1000));
    const chat = sim.world.chats.get(next.chatId);
    try {
      if (!chat) throw new ControlError(404, `chat ${next.chatId} not found`);
      const messages = playEntry(sim, chat, next);
      for (const message of messages)
        played.push({ ok: true, at: next.at, chat_id: next.chatId, message });
    } catch (error) {
      if (!(error instanceof ControlError)) throw error;
      played.push({
        ok: false,
        at: next.at,
        chat_id: next.chatId,
        description: error.description,
        // An album is reported by its first item; a new topic by who tried to open it.
        input: next.album ? { ...next.input, ...next.album.items[0] } : next.input,
      });
    }
  }
  sim.clock.set(targetMs);
  return { now: sim.clock.now(), played };
}
