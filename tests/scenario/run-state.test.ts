/**
 * Versioned run state. A run started by a Warden from before versions (its
 * hash has no `stateVersion`) is read as version 1 and carries on after a
 * restart; a run written by a newer Warden, or with a damaged field, is
 * refused with an error naming the run, its case and the version, and left
 * exactly as it is, while the other runs go on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScenarioEngine } from "../../src/scenario/runtime/engine.ts";
import { scenarioKeys } from "../../src/scenario/runtime/keys.ts";
import { RunStateError, readRun } from "../../src/scenario/runtime/run-state.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { type Staged, stageRehearsal } from "./helpers.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const DAY = 86_400_000;
let s: Staged;
/** A run written with a version, once the second test has run it to its end. */
let versioned: string;

beforeAll(async () => {
  s = await stageRehearsal({
    worldPath: `${fixtures}worlds/two-groups.yaml`,
    scenariosDir: fixtures,
    scenario: "pausable",
  });
}, 60_000);
afterAll(async () => {
  await s?.r.close();
});

const fw1 = () => s.r.aliases.fw1 as number;
const fw2 = () => s.r.aliases.fw2 as number;

async function botTexts(chatId: number): Promise<string[]> {
  const chat = await s.r.control.chat(chatId);
  return chat.messages
    .filter((m) => m.sender_id === s.r.botId && !m.is_service)
    .map((m) => (m.message as { text?: string }).text ?? "");
}

/** Types a command in the control room and returns what the bot said there in answer. */
async function command(text: string): Promise<string> {
  const before = (await botTexts(s.r.room)).length;
  await s.r.control.sendMessage(s.r.room, { from_id: s.r.operator, text });
  await s.r.settle();
  return (await botTexts(s.r.room)).slice(before).join("\n");
}

/** Starts `pausable` on a chat (a warning, then a day's wait) and returns its run id. */
async function startPausable(alias: string, chatId: number): Promise<string> {
  expect(await command(`/scenario start pausable ${alias}`)).toMatch(/^started pausable/);
  const runId = await s.r.redis.hget(scenarioKeys.active(s.r.caseId), String(chatId));
  if (!runId) throw new Error(`no run on ${alias}`);
  return runId;
}

async function runEntries(runId: string) {
  return (await s.entries()).filter((e) => e.params?.run === runId);
}

describe("run state versions", () => {
  it("carries on a run written before versions, after a restart, without rewriting it", async () => {
    const runId = await startPausable("fw1", fw1());
    const key = scenarioKeys.run(s.r.caseId, runId);
    const written = await s.r.redis.hgetall(key);
    expect(written.stateVersion).toBe("1");

    // The hash as Warden wrote it before versions: exactly these fields, numbers in decimal,
    // the starter as JSON, and no version.
    const { stateVersion: _, ...legacy } = written;
    const startedAt = Number(legacy.startedAt);
    expect(legacy).toEqual({
      id: runId,
      caseId: s.r.caseId,
      scenario: "pausable",
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      title: "Warn, wait a day, tell the operators",
      chatId: String(fw1()),
      alias: "fw1",
      groupTitle: "Knallers Eén",
      status: "running",
      phase: "0",
      step: "1",
      attempt: "0",
      startedAt: expect.stringMatching(/^\d+$/),
      startedBy: JSON.stringify({
        kind: "operator",
        id: s.r.operator,
        name: "Duty officer",
        role: "operator",
      }),
      wakeAt: String(startedAt + DAY),
      wakeStep: "0.1",
    });
    await s.r.redis.del(key);
    await s.r.redis.hset(key, legacy);

    // A restart: a new engine on the same Redis (the engine keeps nothing else).
    const engine = createScenarioEngine(s.r.warden.scenarios.deps);
    const [run] = await engine.runs(s.r.caseId, 1);
    expect(run).toEqual({
      id: runId,
      caseId: s.r.caseId,
      scenario: "pausable",
      hash: legacy.hash,
      title: "Warn, wait a day, tell the operators",
      chatId: fw1(),
      alias: "fw1",
      groupTitle: "Knallers Eén",
      status: "running",
      phase: 0,
      step: 1,
      attempt: 0,
      startedAt,
      startedBy: { kind: "operator", id: s.r.operator, name: "Duty officer", role: "operator" },
      wakeAt: startedAt + DAY,
      wakeStep: "0.1",
    });
    expect(await engine.describe(run as NonNullable<typeof run>)).toMatch(
      /at only\/day, waiting until .* \(in 1d\)/,
    );

    await s.r.advanceTo(startedAt + DAY);
    await s.r.settle();
    await engine.tick();
    await s.r.settle();
    expect((await botTexts(s.r.room)).at(-1)).toContain("fw1: the day is over");
    expect((await runEntries(runId)).map((e) => [e.op, e.scenario?.step])).toEqual([
      ["scenario.start", "start"],
      ["scenario.step", "only/notice"],
      ["scenario.wait", "only/day"],
      ["scenario.step", "only/day"],
      ["scenario.step", "only/3-notify"],
      ["scenario.finish", "finish"],
    ]);
    // Read as version 1, not rewritten: the run ends with the fields it had and no version.
    const ended = await s.r.redis.hgetall(key);
    expect(ended.stateVersion).toBeUndefined();
    expect(ended).toMatchObject({ status: "finished", step: "3" });
    await expectLogVerifies(s.r.redis, s.r.caseId);
  });

  it("refuses a run written by a newer Warden, leaves it alone, and goes on with the others", async () => {
    const older = await startPausable("fw1", fw1());
    versioned = older;
    const newer = await startPausable("fw2", fw2());
    const key = scenarioKeys.run(s.r.caseId, newer);
    // A newer Warden's layout: a version this one does not know, and a field it renamed.
    const wakeAt = await s.r.redis.hget(key, "wakeAt");
    await s.r.redis.hdel(key, "wakeAt");
    await s.r.redis.hset(key, { stateVersion: "2", wakeAtMs: wakeAt ?? "" });
    const before = await s.r.redis.hgetall(key);
    const entriesBefore = (await runEntries(newer)).length;

    const refusal = `run ${newer} of case ${s.r.caseId} was written by a newer Warden (run state version 2; this one reads up to 1): upgrade Warden to the release that started the run, or a later one, before going on with it; this Warden leaves the run alone`;
    await expect(s.r.warden.scenarios.runs(s.r.caseId)).rejects.toThrow(refusal);
    await expect(readRun(s.r.redis, s.r.caseId, newer)).rejects.toMatchObject({
      name: "RunStateError",
      caseId: s.r.caseId,
      runId: newer,
      version: 2,
    });
    expect(await command("/scenario status fw2")).toBe(`/scenario failed: ${refusal}`);
    expect(await command("/scenario abort fw2")).toBe(`/scenario failed: ${refusal}`);

    const startedAt = Number(
      await s.r.redis.hget(scenarioKeys.run(s.r.caseId, older), "startedAt"),
    );
    await s.r.advanceTo(startedAt + DAY);
    await s.r.settle();
    await s.r.warden.scenarios.tick();
    await s.r.settle();

    expect((await readRun(s.r.redis, s.r.caseId, older))?.status).toBe("finished");
    expect(await s.r.redis.hgetall(key)).toEqual(before);
    expect(await runEntries(newer)).toHaveLength(entriesBefore);
    const notes = (await botTexts(s.r.room)).filter((t) => t.includes("the day is over"));
    expect(notes.filter((t) => t.includes("fw2"))).toEqual([]);
  });

  it("refuses a damaged field instead of misreading it", async () => {
    // A copy of a sound run under a run id of its own, damaged one field at a time.
    const runId = "fw1-damaged";
    const key = scenarioKeys.run(s.r.caseId, runId);
    const good: Record<string, string> = {
      ...(await s.r.redis.hgetall(scenarioKeys.run(s.r.caseId, versioned))),
      id: runId,
    };
    expect(good.stateVersion).toBe("1");
    expect(await readRun(s.r.redis, s.r.caseId, runId)).toBeUndefined();
    await s.r.redis.hset(key, good);
    expect(await readRun(s.r.redis, s.r.caseId, runId)).toMatchObject({ id: runId, step: 3 });
    const refused = async (change: Record<string, string>, drop: string[] = []) => {
      await s.r.redis.del(key);
      const fields = Object.fromEntries(
        Object.entries({ ...good, ...change }).filter(([k]) => !drop.includes(k)),
      );
      await s.r.redis.hset(key, fields);
      const err = await readRun(s.r.redis, s.r.caseId, runId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunStateError);
      return (err as Error).message;
    };
    const prefix = `run ${runId} of case ${s.r.caseId} has a damaged state (run state version 1): `;
    expect(await refused({ phase: "x" })).toBe(
      `${prefix}phase: expected a whole number, 0 or more (is "x"). This Warden leaves the run alone rather than guess: repair the hash ${key} from the run's entries in the audit log`,
    );
    expect(await refused({ step: "1.5" })).toContain(
      'step: expected a whole number, 0 or more (is "1.5")',
    );
    expect(await refused({ status: "sleeping" })).toContain("status: Invalid option");
    expect(await refused({ startedBy: "{oops" })).toContain(
      'startedBy: expected JSON (is "{oops")',
    );
    expect(await refused({ chatId: "" })).toContain('chatId: expected a whole number (is "")');
    expect(await refused({}, ["alias"])).toContain("alias: missing");
    expect(await refused({ id: "fw9-00000000" })).toContain(
      `id: not the run's id (is "fw9-00000000")`,
    );
    expect(await refused({ stateVersion: "one" })).toContain(
      `damaged state: stateVersion: no such version (is "one")`,
    );
    expect(await refused({ wakeAtMs: "1" })).toContain("unknown field wakeAtMs");
    // A hash without a version is version 1, held to the same schema.
    expect(await refused({ phase: "-1" }, ["stateVersion"])).toContain(
      'damaged state (run state version 1): phase: expected a whole number, 0 or more (is "-1")',
    );
  });
});
