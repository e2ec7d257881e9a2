/**
 * A rehearsal with Telegram's flood limits on: 25 members offer fireworks
 * within half a minute, so Warden has more to say in the group and in the
 * control room than 20 messages a minute allow. Its send windows and the
 * simulator's limits both count on the simulated clock: the sends over the
 * limit are held until a simulated minute has passed (the rehearsal moves
 * the clock on to that moment rather than waiting a real minute), none is
 * refused with a 429, and the run ends as it would live. A terminal watching
 * the rehearsal sees its progress on one line that is wiped at the end.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RehearsalResult } from "../../src/cli/rehearsal.ts";
import { DEFAULT_WORLD } from "../../src/cli/rehearsal-world.ts";
import type { CallRecord } from "../../src/sim/index.ts";
import { type Staged, stageRehearsal } from "./helpers.ts";

const OFFERS = 25;

/** The shipped fireworks world with OFFERS new members each offering once, a second apart. */
function busyWorld(): string {
  const world = parse(readFileSync(DEFAULT_WORLD, "utf8")) as {
    users: Array<Record<string, unknown>>;
    chats: Array<{ key: string; members: Array<Record<string, unknown>> }>;
    timeline: Array<Record<string, unknown>>;
    rehearsal: { script: unknown[] };
  };
  const deals = world.chats.find((c) => c.key === "deals");
  if (!deals) throw new Error("the fireworks world has no deals chat");
  world.timeline = [];
  for (let i = 0; i < OFFERS; i++) {
    world.users.push({ key: `s${i}`, first_name: `Seller${i}`, language_code: "nl" });
    deals.members.push({ user: `s${i}` });
    world.timeline.push({
      at: 60 + i,
      chat: "deals",
      from: `s${i}`,
      text: `Cobra ${i + 6} te koop, ${10 + i} euro per stuk`,
    });
  }
  world.rehearsal.script = [];
  return stringify(world);
}

let s: Staged;
let result: RehearsalResult;
let calls: CallRecord[];
const screen: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-windows-"));
  const worldPath = join(dir, "world.yaml");
  writeFileSync(worldPath, busyWorld());
  s = await stageRehearsal({
    scenario: "fireworks-takeover",
    worldPath,
    rateLimits: true,
    progress: { isTTY: true, columns: 200, write: (t: string) => screen.push(t) },
  });
  await s.r.operatorSays("/scenario start fireworks-takeover fw1");
  await s.r.runUntilDone("fw1");
  result = await s.r.finish("fw1");
  calls = await s.calls();
}, 120_000);
afterAll(async () => {
  await s?.r.close();
});

/** The bot's sends to a chat, in the order the simulator took them. */
const sendsTo = (chatId: number) =>
  calls.filter(
    (c) => c.method === "sendMessage" && (c.params as { chat_id: number }).chat_id === chatId,
  );

describe("a rehearsal with Telegram's flood limits", () => {
  it("ran to the end without a single 429", () => {
    expect(result, s.lines.join("\n")).toMatchObject({ runStatus: "finished", verified: true });
    expect(calls.filter((c) => c.error_code === 429)).toEqual([]);
  });

  it("held the sends over 20 a minute in a group until a simulated minute had passed", () => {
    for (const chatId of [s.r.aliases.fw1 as number, s.r.room]) {
      const sends = sendsTo(chatId);
      for (let i = 0; i + 20 < sends.length; i++) {
        const first = sends[i] as CallRecord;
        const twentyFirst = sends[i + 20] as CallRecord;
        expect(twentyFirst.time - first.time, `send ${i + 20} to ${chatId}`).toBeGreaterThanOrEqual(
          60,
        );
      }
    }
    // The control room heard of every answered offer, and of the start: more than one window's worth.
    expect(sendsTo(s.r.room).length).toBeGreaterThan(20);
  });

  it("showed its progress on the terminal, and wiped the line at the end", () => {
    expect(
      screen.some((t) =>
        /rehearsing fireworks-takeover: simulated 12-2\d \d\d:\d\d UTC, day \d+ · \d+ member messages/.test(
          t,
        ),
      ),
    ).toBe(true);
    expect(screen.at(-1)).toBe("\r\x1b[K");
  });
});
