/**
 * Moving the simulated clock. Timeline messages that fall due are played in
 * order, each stamped with its own scheduled time, before the clock settles
 * on the target.
 */
import { ControlError } from "../errors.ts";
import type { TgMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { withReply } from "../world/load.ts";
import { postMemberMessage } from "./member-messages.ts";

export type PlayedMessage =
  | { ok: true; at: number; chat_id: number; message: TgMessage }
  | { ok: false; at: number; chat_id: number; description: string };

export function advanceClock(
  sim: Simulator,
  seconds: number,
): { now: number; played: PlayedMessage[] } {
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new ControlError(400, "advance_seconds must be ≥ 0");
  const targetMs = sim.clock.nowMs() + seconds * 1000;
  const played: PlayedMessage[] = [];
  for (;;) {
    const next = sim.timeline[0];
    if (!next || next.at * 1000 > targetMs) break;
    sim.timeline.shift();
    sim.clock.set(Math.max(sim.clock.nowMs(), next.at * 1000));
    const chat = sim.world.chats.get(next.chatId);
    try {
      if (!chat) throw new ControlError(404, `chat ${next.chatId} not found`);
      const stored = postMemberMessage(sim, chat, withReply(sim, next.input, next.replyTo));
      if (next.label) sim.labels.set(next.label, [chat.id, stored.message.message_id]);
      played.push({ ok: true, at: next.at, chat_id: next.chatId, message: stored.message });
    } catch (error) {
      if (!(error instanceof ControlError)) throw error;
      played.push({ ok: false, at: next.at, chat_id: next.chatId, description: error.description });
    }
  }
  sim.clock.set(targetMs);
  return { now: sim.clock.now(), played };
}
