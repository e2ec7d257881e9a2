import type { Transformer } from "grammy";
import { describe, expect, it } from "vitest";
import { sendThrottler } from "../../src/bot/bot.ts";

/**
 * The send throttler against a recording stand-in for the Bot API: every
 * window of `WINDOW_MS` may hold at most `LIMIT` sends to one group, however
 * the sends are timed, while admin calls are never queued behind them.
 */

const LIMIT = 3;
const WINDOW_MS = 300;

interface Call {
  method: string;
  chatId: unknown;
  at: number;
}

function recordingApi(calls: Call[]): Parameters<Transformer>[0] {
  return (async (method: string, payload: { chat_id?: unknown }) => {
    calls.push({ method, chatId: payload.chat_id, at: performance.now() });
    return { ok: true, result: true };
  }) as unknown as Parameters<Transformer>[0];
}

describe("send throttler", () => {
  it("keeps each group within a sliding window, in order, and lets admin calls through", async () => {
    const calls: Call[] = [];
    const prev = recordingApi(calls);
    const throttle = sendThrottler({ groupLimit: LIMIT, groupWindowMs: WINDOW_MS });
    const send = (chatId: number | string, text: string) =>
      throttle(prev, "sendMessage", { chat_id: chatId, text } as never);

    const first = Array.from({ length: 7 }, (_, i) => send(-1001, `a${i}`));
    const other = Array.from({ length: 2 }, (_, i) => send("@otherpublicgroup", `b${i}`));
    // An admin call made while the group's window is full is not held behind the queued sends.
    await first[LIMIT - 1];
    await throttle(prev, "restrictChatMember", { chat_id: -1001, user_id: 1 } as never);
    await Promise.all([...first, ...other]);

    const toGroup = calls.filter((c) => c.chatId === -1001);
    const sends = toGroup.filter((c) => c.method === "sendMessage");
    expect(sends).toHaveLength(7);
    for (let i = 0; i + LIMIT < sends.length; i++) {
      const gap = (sends[i + LIMIT] as Call).at - (sends[i] as Call).at;
      expect(gap, `send ${i + LIMIT} came ${gap} ms after send ${i}`).toBeGreaterThanOrEqual(
        WINDOW_MS - 1,
      );
    }
    const restrictAt = toGroup.findIndex((c) => c.method === "restrictChatMember");
    expect(restrictAt).toBeLessThan(toGroup.indexOf(sends[LIMIT] as Call));
    expect(calls.filter((c) => c.chatId === "@otherpublicgroup")).toHaveLength(2);
  });

  it("does not hold private chats to the group window", async () => {
    const calls: Call[] = [];
    const throttle = sendThrottler({ groupLimit: 1, groupWindowMs: 60_000 });
    await throttle(recordingApi(calls), "sendMessage", { chat_id: 42, text: "x" } as never);
    await throttle(recordingApi(calls), "sendMessage", { chat_id: 42, text: "y" } as never);
    expect(calls.map((c) => c.chatId)).toEqual([42, 42]);
  });
});
