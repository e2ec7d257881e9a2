import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionView } from "../../src/cli/console/rehearsal-session.ts";
import { buildConsole } from "../../src/cli/console/server.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { eventually } from "../helpers/warden.ts";

/**
 * The studio's clock through the JSON API other tools drive: a rehearsal
 * paused after its start was approved moves only when stepped, one jump of
 * the simulated clock per step, and stays paused; resumed at full speed it
 * runs to a verified end.
 */

const LONG = 120_000;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "warden-console-pace-"));
  const scenarios = join(root, "scenarios");
  mkdirSync(join(scenarios, "worlds"), { recursive: true });
  cpSync("scenarios/fireworks-takeover.yaml", join(scenarios, "fireworks-takeover.yaml"));
  cpSync("scenarios/worlds/fireworks.yaml", join(scenarios, "worlds", "fireworks.yaml"));
  app = await buildConsole({
    token: "test-token",
    dataDir: join(root, "var"),
    scenariosDir: scenarios,
    redisUrl: await freshRedisUrl(),
    logger: pino({ level: "silent" }),
  });
  base = (await app.listen({ host: "127.0.0.1", port: 0 })).replace("localhost", "127.0.0.1");
}, 60_000);

afterAll(async () => {
  await app?.close();
});

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function view(id: string): Promise<SessionView> {
  return (await (await fetch(`${base}/api/rehearsals/${id}`)).json()) as SessionView;
}

async function approve(id: string): Promise<void> {
  const request = await eventually(async () => (await view(id)).approvals[0], LONG);
  const button = request.buttons.find((b) => b.text.includes("Approve"));
  if (!button) throw new Error(`no Approve button under: ${request.text}`);
  const answered = await post(`/api/rehearsals/${id}/answer`, {
    messageId: request.messageId,
    data: button.data,
  });
  expect(answered.status).toBe(200);
}

describe("the simulated clock, driven through the API", () => {
  it("paused, moves one jump per step and stays paused; resumed, runs to a verified end", async () => {
    const started = await post("/api/rehearsals", { scenario: "fireworks-takeover", speed: 0 });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };

    // The start waits for the supervisor; pause first, so nothing after the approval runs freely.
    await eventually(async () => (await view(id)).approvals.length > 0, LONG);
    const paused = await post(`/api/rehearsals/${id}/control`, { action: "pause" });
    expect(((await paused.json()) as { state: string }).state).toBe("paused");
    await approve(id);
    await eventually(async () => (await view(id)).approvals.length === 0, LONG);

    let clock = await eventually(async () => (await view(id)).clock, LONG);
    for (let step = 0; step < 2; step++) {
      const before = clock;
      await post(`/api/rehearsals/${id}/control`, { action: "step" });
      clock = await eventually(async () => {
        const now = await view(id);
        return now.clock !== undefined && now.clock > before ? now.clock : undefined;
      }, LONG);
      expect((await view(id)).state).toBe("paused");
    }
    // Two jumps after the start, the release (three simulated days later) is far off: a clock that
    // ran on while paused would have reached it in well under a second at this speed.
    const held = await view(id);
    expect(held.approvals).toEqual([]);
    expect(held.clock).toBe(clock);

    await post(`/api/rehearsals/${id}/control`, { action: "resume" });
    await approve(id); // three days later, the release asks again
    const end = await eventually(async () => {
      const now = await view(id);
      return now.state === "finished" || now.state === "failed" ? now : undefined;
    }, LONG);
    expect(end.error).toBeUndefined();
    expect(end.state).toBe("finished");
    expect(end.result?.verified).toBe(true);
    // The view is read beside the rehearsal, so it may lag; the last one is whole: every entry of
    // the verified log in order, no request left, and the control room as it ended — both
    // requests answered (edited to say so, no button left under any message), the group released.
    const entries = end.result?.entries ?? 0;
    expect(end.audit.map((e) => e.seq)).toEqual(Array.from({ length: entries }, (_, i) => i + 1));
    expect(end.approvals).toEqual([]);
    const room = end.chats?.controlRoom.messages ?? [];
    expect(room.filter((m) => m.text.startsWith("Approved by"))).toHaveLength(2);
    expect(room.flatMap((m) => m.buttons ?? [])).toEqual([]);
    expect(room.at(-1)?.text).toContain("is released");
  }, 240_000);
});
