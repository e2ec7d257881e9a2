import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stageRehearsal } from "./helpers.ts";

/**
 * The shipped takeover scenarios rehearsed on the shipped forum world
 * (scenarios/worlds/fireworks-forum.yaml): Telegram cannot list a forum's
 * topics, and this world's were made before the bot came, so Warden learns
 * them as members write in them. Lockdown closes General and every topic it
 * knows; a topic seen open during the lockdown is closed when seen; release
 * reopens exactly what Warden closed, so the forum's topics end as they began.
 */

const FORUM_WORLD = fileURLToPath(
  new URL("../../scenarios/worlds/fireworks-forum.yaml", import.meta.url),
);

type Topics = { general: { is_closed: boolean; is_hidden: boolean }; topics: TopicState[] };
type TopicState = { message_thread_id: number; name: string; is_closed: boolean };

const states = (t: Topics) =>
  Object.fromEntries(t.topics.map((x) => [x.name, x.is_closed] as const));

// drug-market-deterrence neither locks down nor releases: it must leave every topic alone.
describe.each([
  { scenario: "fireworks-takeover", locksDown: true },
  { scenario: "drug-market-deterrence", locksDown: false },
])("$scenario rehearsed on the forum world", ({ scenario, locksDown }) => {
  it("runs to the end; a lockdown closes the topics it sees, release reopens exactly those", async () => {
    const s = await stageRehearsal({ scenario, worldPath: FORUM_WORLD });
    try {
      const forum = s.r.aliases.fwf1 as number;
      const before = (await s.r.control.topics(forum)) as Topics;
      await s.r.operatorSays(`/scenario start ${scenario} fwf1`);
      await s.r.runUntilDone("fwf1");
      const calls = await s.calls();
      const result = await s.r.finish("fwf1");
      expect(result, s.lines.join("\n")).toMatchObject({
        ok: true,
        runStatus: "finished",
        verified: true,
        failures: [],
        missingRights: [],
      });
      const closed = calls
        .filter((c) => c.method === "closeForumTopic" && c.ok)
        .map((c) => (c.params as { message_thread_id: number }).message_thread_id)
        .sort((a, b) => a - b);
      const reopened = calls
        .filter((c) => c.method === "reopenForumTopic" && c.ok)
        .map((c) => (c.params as { message_thread_id: number }).message_thread_id)
        .sort((a, b) => a - b);
      expect(calls.some((c) => c.method === "closeGeneralForumTopic" && c.ok)).toBe(locksDown);
      expect(calls.some((c) => c.method === "reopenGeneralForumTopic" && c.ok)).toBe(locksDown);
      // Topics closed during the takeover, and just those, of those open before, came back.
      expect(closed.length > 0).toBe(locksDown);
      const openBefore = new Set(
        before.topics.filter((t) => !t.is_closed).map((t) => t.message_thread_id),
      );
      expect(reopened).toEqual(closed.filter((id) => openBefore.has(id)));
      const after = (await s.r.control.topics(forum)) as Topics;
      expect(after.general).toMatchObject({ is_closed: false, is_hidden: false });
      // Every topic there before ends as it began; one a member created during a lockdown stays closed.
      const began = states(before);
      for (const [name, isClosed] of Object.entries(states(after)))
        expect([name, isClosed]).toEqual([name, began[name] ?? locksDown]);
    } finally {
      await s.r.close();
    }
  }, 120_000);
});
