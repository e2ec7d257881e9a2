/**
 * SIGKILL and restart: the bot runs in a child process against the
 * simulator and a real Redis, and is killed in the middle of a phase — once
 * while a wait's timer is pending and a member is half-way through a
 * conversation, once during the second wait. While it is dead the timers
 * come due and members keep writing. Each new process takes the run up where
 * the log left it: the timers fire late rather than never, the conversation
 * goes on with the answer given while the bot was down, the offer posted
 * meanwhile is answered, and no action is repeated or skipped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChat, addRole, createCase, setControlRoom } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { scenarioKeys } from "../../src/scenario/runtime/keys.ts";
import { readRun } from "../../src/scenario/runtime/run-state.ts";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { eventually } from "../helpers/warden.ts";

const CHILD = fileURLToPath(new URL("./children/warden.ts", import.meta.url));
const SCENARIOS = fileURLToPath(new URL("./fixtures/restart/", import.meta.url));
const WORLD = fileURLToPath(new URL("./fixtures/worlds/two-groups.yaml", import.meta.url));
const CASE = "restart";

let sim: RunningSimulator;
let redis: Redis;
let redisUrl: string;
let token: string;
let botId: number;
let users: Record<string, number>;
let group: number;
let room: number;
let child: ChildProcess | undefined;

function startBot(): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", CHILD, sim.apiRoot, token, redisUrl, SCENARIOS, sim.url],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    proc.stdout?.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) resolve(proc);
    });
    proc.once("exit", (code) => reject(new Error(`the bot exited with ${code}: ${err}`)));
  });
}

async function kill(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGKILL");
  await gone;
}

async function botTexts(chatId: number): Promise<string[]> {
  const chat = await sim.control.chat(chatId);
  return chat.messages
    .filter((m) => m.sender_id === botId && !m.is_service)
    .map((m) => (m.message as { text?: string }).text ?? "");
}

/**
 * The bot is quiet: every update fetched and confirmed, and no action between
 * its intent and its outcome (trigger actions run off the update's path).
 */
async function drained(interrupted = 0): Promise<void> {
  await eventually(async () => (await sim.control.bot(botId)).pending_update_count === 0, 20_000);
  await eventually(
    async () => (await redis.hlen(auditKeys.openIntents(CASE))) === interrupted,
    20_000,
  );
}

async function run() {
  const runId = await redis.hget(scenarioKeys.active(CASE), String(group));
  const last = runId ?? (await redis.zrevrange(scenarioKeys.runs(CASE), 0, 0))[0];
  return last ? readRun(redis, CASE, last) : undefined;
}

beforeAll(async () => {
  sim = await startSimulator({ rateLimits: false });
  const loaded = await sim.control.loadWorld(readFileSync(WORLD, "utf8"));
  const bot = loaded.bots[0];
  if (!bot) throw new Error("the world has no bot");
  [token, botId] = [bot.token, bot.id];
  users = loaded.users;
  group = loaded.chats.one as number;
  room = loaded.chats.control as number;
  redisUrl = await freshRedisUrl();
  redis = new Redis(redisUrl);
  const audit = createAuditLog({ redis });
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
  await createCase(deps, {
    id: CASE,
    title: "Restart",
    authority: "OM-TEST",
    purpose: "test",
    retentionDays: 1,
  });
  await addRole(deps, CASE, { userId: users.officer as number, role: "operator", name: "Officer" });
  await addChat(deps, CASE, { chatId: group, alias: "fw1" });
  await setControlRoom(deps, CASE, room);
  await audit.close();
}, 60_000);

afterAll(async () => {
  await kill(child);
  redis?.disconnect();
  await sim?.close();
});

describe("a scenario across SIGKILL and restart", () => {
  it("repeats nothing, skips nothing, and carries on the conversation", async () => {
    const kees = users.kees as number;
    const joan = users.joan as number;
    child = await startBot();
    await sim.control.sendMessage(room, {
      from_id: users.officer as number,
      text: "/scenario start restartable fw1",
    });
    await eventually(async () => (await run())?.wakeStep === "0.1", 20_000);
    await sim.control.sendMessage(kees, { from_id: kees, text: "hoi" });
    await eventually(async () => (await botTexts(kees)).at(-1) === "Eerste vraag?", 20_000);
    await sim.control.sendMessage(kees, { from_id: kees, text: "antwoord een" });
    await eventually(
      async () => (await botTexts(kees)).at(-1) === "Tweede vraag, antwoord een?",
      20_000,
    );
    await drained();

    // Killed mid-phase: the hour's wait pending, Kees half-way through the conversation.
    await kill(child);
    await sim.control.advanceClock(3700);
    await sim.control.sendMessage(kees, { from_id: kees, text: "antwoord twee" });
    await sim.control.sendMessage(group, {
      from_id: joan,
      text: "Selling 50 Cobra 8s, 12 each, cash only",
    });
    expect((await run())?.step).toBe(1);

    child = await startBot();
    await eventually(
      async () => (await botTexts(kees)).at(-1) === "Dank u, antwoord twee.",
      20_000,
    );
    await eventually(async () => (await run())?.wakeStep === "0.3", 20_000);
    await eventually(
      async () => (await botTexts(group)).includes("Joan, your offer has been recorded."),
      20_000,
    );
    await drained();

    // Killed again while the second wait's timer is pending.
    await kill(child);
    await sim.control.advanceClock(3700);
    child = await startBot();
    await eventually(async () => (await run())?.status === "finished", 20_000);
    await kill(child);

    const calls = (await sim.control.calls(0)).filter((c) => c.bot_id === botId && c.ok);
    const sent = (chatId: number) =>
      calls
        .filter(
          (c) => c.method === "sendMessage" && (c.params as { chat_id: number }).chat_id === chatId,
        )
        .map((c) => String((c.params as { text: string }).text));
    expect(sent(group)).toEqual([
      "Knallers Eén staat onder toezicht van de politie.\n\n—\n\nKnallers Eén is watched by the police.",
      "Joan, your offer has been recorded.",
      "Einde van de actie.\n\n—\n\nEnd of the operation.",
    ]);
    expect(sent(kees)).toEqual([
      "Eerste vraag?",
      "Tweede vraag, antwoord een?",
      "Dank u, antwoord twee.",
    ]);
    expect(calls.filter((c) => c.method === "pinChatMessage")).toHaveLength(1);
    expect(calls.filter((c) => c.method === "setChatPermissions")).toHaveLength(1);

    const entries = await auditEntries(redis, CASE);
    const steps = entries.filter((e) => e.op === "scenario.step").map((e) => e.scenario?.step);
    expect(steps).toEqual(["only/warning", "only/hold", "only/freeze", "only/second", "only/last"]);
    const late = entries.filter((e) => e.op === "scenario.step" && e.params?.late);
    expect(late.map((e) => e.scenario?.step)).toEqual(["only/hold", "only/second"]);
    const intents = entries.filter((e) => e.phase === "intent");
    const outcomes = new Set(entries.filter((e) => e.phase === "outcome").map((e) => e.intent_seq));
    for (const intent of intents)
      expect(outcomes.has(intent.seq), `#${intent.seq} ${intent.op}`).toBe(true);
    const answers = entries.filter(
      (e) => e.op === "collect" && e.params?.purpose === "scenario conversation answer",
    );
    expect(answers.map((e) => e.params?.name)).toEqual(["first", "second"]);
    expect(entries.filter((e) => e.op === "scenario.trigger").map((e) => e.params?.on)).toEqual([
      "private_message",
      "trade_offer",
    ]);
    await expectLogVerifies(redis, CASE);
  }, 90_000);

  it("hands an update cut short by SIGKILL to the new process, which sends nothing twice", async () => {
    const joan = users.joan as number;
    child = await startBot();
    await sim.control.sendMessage(room, {
      from_id: users.officer as number,
      text: "/scenario start restartable fw1",
    });
    await eventually(
      async () => (await run())?.status === "running" && (await run())?.wakeStep === "0.1",
      20_000,
    );
    await sim.control.sendMessage(joan, { from_id: joan, text: "hi" });
    await eventually(async () => (await botTexts(joan)).at(-1) === "First question?", 20_000);
    await drained();

    // Telegram is slow to take the second question: the bot dies while it waits for the answer.
    await sim.control.injectFault({ method: "sendMessage", count: 1, latency_ms: 3000 });
    await sim.control.sendMessage(joan, { from_id: joan, text: "one" });
    const pendingSay = async () => {
      const entries = await auditEntries(redis, CASE);
      const outcomes = new Set(
        entries.filter((e) => e.phase === "outcome").map((e) => e.intent_seq),
      );
      return entries.find(
        (e) => e.phase === "intent" && e.op === "conversation.say" && !outcomes.has(e.seq),
      );
    };
    await eventually(pendingSay, 20_000);
    await kill(child);
    // Telegram did deliver it, after the bot was gone.
    await eventually(async () => (await botTexts(joan)).at(-1) === "Second question, one?", 20_000);

    child = await startBot();
    await sim.control.sendMessage(joan, { from_id: joan, text: "two" });
    await eventually(async () => (await botTexts(joan)).at(-1) === "Thank you, two.", 20_000);
    await drained(1);
    expect(await botTexts(joan)).toEqual([
      "First question?",
      "Second question, one?",
      "Thank you, two.",
    ]);
    const entries = await auditEntries(redis, CASE);
    const answers = entries.filter(
      (e) =>
        e.op === "collect" &&
        e.params?.purpose === "scenario conversation answer" &&
        e.target?.user_ids?.[0] === joan,
    );
    expect(answers.map((e) => e.params?.name)).toEqual(["first", "second"]);
    // The interrupted send stays on the record as begun and never finished; it was not repeated.
    const interrupted = await pendingSay();
    expect(interrupted?.params).toMatchObject({ conversation: "chat", step: "two" });
    await kill(child);
  }, 90_000);
});
