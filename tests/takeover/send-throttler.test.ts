import type { Transformer } from "grammy";
import { describe, expect, it } from "vitest";
import { sendThrottler } from "../../src/bot/throttle.ts";
import { simulatedTimers } from "../../src/cli/rehearsal/timers.ts";

/**
 * The send throttler against a recording stand-in for the Bot API, with short
 * windows: however the sends are timed, no window holds more than its limit
 * (per group, per private chat, overall), each chat's sends keep their order,
 * and admin calls are never queued behind sends. On a simulated clock (a
 * rehearsal's) the windows pass when that clock moves, with no real waiting.
 */

interface Call {
  method: string;
  chatId: unknown;
  text?: string;
  at: number;
}

function recordingApi(calls: Call[]): Parameters<Transformer>[0] {
  return (async (method: string, payload: { chat_id?: unknown; text?: string }) => {
    calls.push({ method, chatId: payload.chat_id, text: payload.text, at: performance.now() });
    return { ok: true, result: true };
  }) as unknown as Parameters<Transformer>[0];
}

/** Every `limit + 1` consecutive calls span at least the window. */
function expectWindow(calls: Call[], limit: number, windowMs: number): void {
  for (let i = 0; i + limit < calls.length; i++) {
    const gap = (calls[i + limit] as Call).at - (calls[i] as Call).at;
    expect(gap, `call ${i + limit} came ${gap} ms after call ${i}`).toBeGreaterThanOrEqual(
      windowMs - 1,
    );
  }
}

/** A window that never holds anything back, for the limits a test is not about. */
const loose = { limit: 1000, windowMs: 10 };

describe("send throttler", () => {
  it("keeps each group within a sliding window, in order, and lets admin calls through", async () => {
    const calls: Call[] = [];
    const prev = recordingApi(calls);
    const throttle = sendThrottler({
      limits: { group: { limit: 3, windowMs: 300 }, overall: loose, privateChat: loose },
    });
    const send = (chatId: number | string, text: string) =>
      throttle(prev, "sendMessage", { chat_id: chatId, text } as never);

    const first = Array.from({ length: 7 }, (_, i) => send(-1001, `a${i}`));
    const other = Array.from({ length: 2 }, (_, i) => send("@otherpublicgroup", `b${i}`));
    // An admin call made while the group's window is full is not held behind the queued sends.
    await first[2];
    await throttle(prev, "restrictChatMember", { chat_id: -1001, user_id: 1 } as never);
    await Promise.all([...first, ...other]);

    const toGroup = calls.filter((c) => c.chatId === -1001);
    const sends = toGroup.filter((c) => c.method === "sendMessage");
    expect(sends.map((c) => c.text)).toEqual(["a0", "a1", "a2", "a3", "a4", "a5", "a6"]);
    expectWindow(sends, 3, 300);
    const restrictAt = toGroup.findIndex((c) => c.method === "restrictChatMember");
    expect(restrictAt).toBeLessThan(toGroup.indexOf(sends[3] as Call));
    expect(calls.filter((c) => c.chatId === "@otherpublicgroup")).toHaveLength(2);
  });

  it("keeps all sends together within the overall window, and each private chat within its own", async () => {
    const calls: Call[] = [];
    const prev = recordingApi(calls);
    const throttle = sendThrottler({
      limits: {
        overall: { limit: 4, windowMs: 250 },
        privateChat: { limit: 1, windowMs: 200 },
        group: loose,
      },
    });
    const sends = [];
    for (let i = 0; i < 10; i++)
      sends.push(throttle(prev, "sendMessage", { chat_id: 100 + (i % 5), text: `p${i}` } as never));
    await Promise.all(sends);
    expect(calls).toHaveLength(10);
    expectWindow(calls, 4, 250);
    for (let chat = 100; chat < 105; chat++) {
      const mine = calls.filter((c) => c.chatId === chat);
      expect(mine.map((c) => c.text)).toEqual([`p${chat - 100}`, `p${chat - 95}`]);
      expectWindow(mine, 1, 200);
    }
  });

  it("on a simulated clock lets a window's sends through and holds the next until the window has passed on that clock", async () => {
    let now = 1_000_000;
    const timers = simulatedTimers(() => now);
    const sent: Array<{ text?: string; at: number }> = [];
    const prev = (async (_method: string, payload: { text?: string }) => {
      sent.push({ text: payload.text, at: now });
      return { ok: true, result: true };
    }) as unknown as Parameters<Transformer>[0];
    const throttle = sendThrottler({
      clock: timers,
      limits: { group: { limit: 3, windowMs: 60_000 }, overall: loose, privateChat: loose },
    });
    const sends = ["m0", "m1", "m2", "m3"].map((text) =>
      throttle(prev, "sendMessage", { chat_id: -1001, text } as never),
    );
    await Promise.all(sends.slice(0, 3));
    expect(sent).toEqual([
      { text: "m0", at: 1_000_000 },
      { text: "m1", at: 1_000_000 },
      { text: "m2", at: 1_000_000 },
    ]);
    // The fourth waits for the first slot, which comes back a simulated minute after it was taken.
    expect(throttle.waiting()).toBe(1);
    expect(throttle.inFlight()).toBe(0);
    now += 59_999;
    timers.fireDue();
    expect(throttle.waiting()).toBe(1);
    expect(sent).toHaveLength(3);
    now += 1;
    timers.fireDue();
    await sends[3];
    expect(sent[3]).toEqual({ text: "m3", at: 1_060_000 });
    expect(throttle.waiting()).toBe(0);
  });
});
