import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeKeyFiles } from "../../src/audit/checkpoint.ts";
import type { CallRecord } from "../../src/sim/index.ts";
import { collectKeys, replicaKeys } from "../../src/store/keys.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import {
  intakeLength,
  keptMessages,
  killStarted,
  type LiveStage,
  type StartedWarden,
  spawnStart,
  startLiveStage,
} from "../helpers/live.ts";
import {
  caseLeaseHolder,
  loadBalancer,
  partitionHolder,
  partitionHolders,
  pollLeader,
} from "../helpers/replicas.ts";
import { eventually } from "../helpers/warden.ts";
import { freePort } from "../setup/redis-server.ts";

/**
 * Two real `warden start` processes on one Redis, against the simulator over
 * HTTP, in each mode. A scenario run is under way and members write on; the
 * operator's /freeze is stuck on Telegram when the process handling it — the
 * polling leader, or the holder of the group's webhook partition — is
 * SIGKILLed. The other process takes over. Counted at the end: messages lost,
 * messages kept twice, Telegram calls made twice — each must be 0; the audit
 * log verifies. Takeover times are measured and printed, not asserted (only
 * generous deadlines bound the waits).
 */

const MESSAGES = 80;
const KILL_AT = 40;
const SECRET = "s3cret-token_for-the-hook";
// Generous: a busy machine with two cores runs two Node processes, Redis and the simulator.
const LONG = 60_000;

let stage: LiveStage | undefined;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  killStarted();
  for (const fn of cleanup.splice(0)) await fn();
  await stage?.close();
  stage = undefined;
});

async function running(w: StartedWarden): Promise<void> {
  await eventually(() => w.logs().includes("Warden is running live"), LONG).catch((err: Error) => {
    throw new Error(`${err.message}\n${w.logs()}`);
  });
}

async function botSaid(s: LiveStage, chatId: number): Promise<string[]> {
  return (await s.sim.control.chat(chatId)).messages
    .filter((m) => m.sender_id === s.botUser.id && !m.is_service)
    .map((m) => (m.message as { text?: string }).text ?? "");
}

/** Telegram calls that change something, by what they change: two alike are one action done twice. */
const ACTING = new Set([
  "sendMessage",
  "deleteMessage",
  "setChatPermissions",
  "setChatTitle",
  "pinChatMessage",
  "restrictChatMember",
  "banChatMember",
  "setChatDescription",
  "declineChatJoinRequest",
]);
function repeatedCalls(calls: CallRecord[]): string[] {
  const seen = new Map<string, number>();
  for (const call of calls) {
    if (!ACTING.has(call.method)) continue;
    const what = `${call.method} ${JSON.stringify(call.params)}`;
    seen.set(what, (seen.get(what) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([what, n]) => `${n}× ${what}`);
}

interface Mode {
  name: "polling" | "webhook";
  /** Environments of the two processes (and what to close afterwards). */
  envs(s: LiveStage): Promise<[Record<string, string>, Record<string, string>]>;
  /** The pid of the process handling the group's updates now. */
  handler(s: LiveStage): Promise<number | undefined>;
  /** Whether `pid` alone takes every update now. */
  tookOver(s: LiveStage, pid: number): Promise<boolean>;
}

const polling: Mode = {
  name: "polling",
  async envs() {
    // Their /readyz, which says who polls.
    const health = async () => ({
      HEALTH_HOST: "127.0.0.1",
      HEALTH_PORT: String(await freePort()),
    });
    return [await health(), await health()];
  },
  handler: (s) => pollLeader(s.redis),
  async tookOver(s, pid) {
    return (await pollLeader(s.redis)) === pid && (await s.sim.control.bot(s.botUser.id)).polling;
  },
};

const webhook: Mode = {
  name: "webhook",
  async envs() {
    const ports = [await freePort(), await freePort()];
    const lb = await loadBalancer(ports);
    cleanup.push(() => lb.close());
    const env = (port: number) => ({
      BOT_MODE: "webhook",
      WEBHOOK_URL: `http://127.0.0.1:${lb.port}/telegram/hook`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_HOST: "127.0.0.1",
      WEBHOOK_PORT: String(port),
    });
    return [env(ports[0] as number), env(ports[1] as number)];
  },
  handler: (s) => partitionHolder(s.redis, s.group),
  async tookOver(s, pid) {
    return (await partitionHolders(s.redis, 8)).every((p) => p === pid);
  },
};

describe("two warden processes, the one handling the group SIGKILLed mid-run", {
  timeout: 300_000,
}, () => {
  for (const mode of [polling, webhook]) {
    it(`${mode.name}: the other takes over; nothing lost, nothing kept twice, no action repeated`, async () => {
      const s = await startLiveStage();
      stage = s;
      const c = s.sim.control;
      const [envA, envB] = await mode.envs(s);
      const a = spawnStart({ ...s.env, ...envA });
      await running(a);
      const b = spawnStart({ ...s.env, ...envB });
      await running(b);
      const byPid = new Map([
        [a.child.pid, a],
        [b.child.pid, b],
      ]);
      if (mode.name === "polling") {
        // Exactly one polls; the other stands by, and their /readyz say so.
        expect(
          [a.logs(), b.logs()].filter((l) => l.includes("took the polling lease")),
        ).toHaveLength(1);
        const roles = [];
        for (const env of [envA, envB]) {
          const ready = await fetch(`http://127.0.0.1:${env.HEALTH_PORT}/readyz`);
          expect(ready.status).toBe(200);
          roles.push(((await ready.json()) as { role: string }).role);
        }
        expect(roles.sort()).toEqual(["leader", "standby"]);
      } else {
        // Both take a share of the partitions.
        await eventually(async () => {
          const holders = await partitionHolders(s.redis, 8);
          return holders.every((p) => p !== undefined) && new Set(holders).size === 2;
        }, LONG);
      }

      // A scenario runs: two days of quiet observation, offers reported to the control room.
      await c.sendMessage(s.room, {
        from_id: s.operator.id,
        text: "/scenario start covert-observe fw1",
      });
      await eventually(
        async () =>
          (await auditEntries(s.redis, s.caseId)).some(
            (e) => e.op === "scenario.step" && e.scenario?.step === "observe/before",
          ),
        LONG,
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}\n${(await botSaid(s, s.room)).join("\n")}\nA:\n${a.logs()}\nB:\n${b.logs()}`,
        );
      });

      const say = (i: number) =>
        c.sendMessage(s.group, {
          from_id: (i % 2 === 0 ? s.alice : s.bob).id,
          text: `bericht ${i}`,
        });
      let sent = 0;
      const burst = async (until: number) => {
        while (sent < until) {
          const batch: Promise<unknown>[] = [];
          for (let k = 0; k < 4 && sent < until; k++) batch.push(say(sent++));
          await Promise.all(batch);
        }
      };
      await burst(KILL_AT);

      // The operator's /freeze trade (members may still write text) is stuck on Telegram when its
      // process dies.
      await c.injectFault({ method: "setChatPermissions", count: 1, latency_ms: 10_000 });
      await c.sendMessage(s.group, { from_id: s.operator.id, text: "/freeze trade" });
      await eventually(
        async () =>
          (await auditEntries(s.redis, s.caseId)).some(
            (e) =>
              e.op === "freeze" &&
              e.phase === "intent" &&
              e.actor?.kind === "operator" &&
              e.params?.step === "set-permissions",
          ),
        LONG,
      );
      const victimPid = await mode.handler(s);
      const victim = byPid.get(victimPid);
      const survivor = victim === a ? b : a;
      expect(victim, "the handling process is one of the two").toBeDefined();
      const heldRuns = (await caseLeaseHolder(s.redis, s.caseId)) === victimPid;
      victim?.child.kill("SIGKILL");
      const killedAt = Date.now();
      await victim?.exited;

      // Members write on; one offers fireworks, which the run answers (whichever process moves it now).
      const streaming = burst(MESSAGES);
      const survivorPid = survivor.child.pid as number;
      await eventually(() => mode.tookOver(s, survivorPid), LONG);
      const tookOverMs = Date.now() - killedAt;
      await streaming;
      await c.sendMessage(s.group, {
        from_id: s.bob.id,
        text: "Selling 50 Cobra 8s, 12 each, cash only",
      });
      await eventually(
        async () =>
          (await auditEntries(s.redis, s.caseId)).some(
            (e) => e.op === "scenario.trigger" && e.params?.on === "trade_offer",
          ),
        LONG,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}\nsurvivor:\n${survivor.logs()}`);
      });
      let runsMovedMs: number | undefined;
      if (heldRuns) {
        await eventually(
          async () => (await caseLeaseHolder(s.redis, s.caseId)) === survivorPid,
          LONG,
        );
        runsMovedMs = Date.now() - killedAt;
      }

      // Everything is kept, and the dead process's stuck action is closed as unknown and reported.
      await eventually(async () => (await keptMessages(s)).messages === MESSAGES + 1, LONG).catch(
        async (err: Error) => {
          throw new Error(
            `${err.message}: ${(await keptMessages(s)).messages} of ${MESSAGES + 1}\nsurvivor:\n${survivor.logs()}`,
          );
        },
      );
      await eventually(
        () => survivor.logs().includes("closed actions interrupted by a crash as unknown"),
        LONG,
      );
      await eventually(async () => {
        const kept = await keptMessages(s);
        return kept.collected.size === (await s.redis.zcard(collectKeys.seenUpdates(s.caseId)));
      }, LONG);
      // Telegram did carry the stuck call out, after its caller was gone.
      await eventually(
        async () => (await c.calls(0, { method: "setChatPermissions" })).length > 0,
        LONG,
      );
      if (mode.name === "webhook")
        await eventually(async () => (await intakeLength(s.redis)) === 0, LONG);
      expect(await survivor.stop("SIGTERM", LONG), survivor.logs()).toBe(0);

      const kept = await keptMessages(s);
      const calls = (await c.calls(0)).filter((call) => call.bot_id === s.botUser.id);
      const conflicts = calls.filter(
        (call) => call.method === "getUpdates" && call.error_code === 409,
      );
      const lost = MESSAGES + 1 - kept.messages;
      const doubled = [...kept.collected.values()].filter((n) => n > 1).length;
      const repeated = repeatedCalls(calls);
      const firstPoll = calls.find(
        (call) => call.received_at > killedAt && call.method === "getUpdates" && call.ok,
      );
      console.log(
        `[failover ${mode.name}] handler SIGKILLed: the other took over in ${tookOverMs} ms` +
          (firstPoll ? `, first poll ${firstPoll.received_at - killedAt} ms after the kill` : "") +
          (runsMovedMs !== undefined ? `; scenario runs moved over in ${runsMovedMs} ms` : "") +
          `; lost ${lost}, kept twice ${doubled}, calls repeated ${repeated.length}, 409s ${conflicts.length}`,
      );
      expect(lost).toBe(0);
      expect(kept.counted).toBe(MESSAGES + 1);
      expect(doubled).toBe(0);
      expect(repeated).toEqual([]);
      // The stuck freeze went to Telegram once; handled again by the survivor, it was not repeated.
      expect(calls.filter((call) => call.method === "setChatPermissions")).toHaveLength(1);
      // No storm of Conflicts: at most the dead leader's last poll.
      expect(conflicts.length).toBeLessThanOrEqual(1);
      const entries = await auditEntries(s.redis, s.caseId);
      const steps = entries.filter((e) => e.op === "scenario.step").map((e) => e.scenario?.step);
      expect(steps.length).toBe(new Set(steps).size);
      const freeze = entries.filter((e) => e.op === "freeze" && e.actor?.kind === "operator");
      const stuck = freeze.filter(
        (e) => e.phase === "intent" && e.params?.step === "set-permissions",
      );
      expect(stuck).toHaveLength(1);
      expect(
        entries.find((e) => e.phase === "outcome" && e.intent_seq === stuck[0]?.seq)?.result,
      ).toMatchObject({ ok: "unknown" });
      expect(
        (await botSaid(s, s.room)).filter((t) => t.startsWith("⚠️ Warden restarted")),
      ).toHaveLength(1);
      await expectLogVerifies(s.redis, s.caseId);
    });
  }
});

describe("two warden processes with different audit keys", { timeout: 120_000 }, () => {
  it("the second refuses to start, in one line that says what to do", async () => {
    const s = await startLiveStage();
    stage = s;
    const a = spawnStart(s.env);
    await running(a);
    const other = join(mkdtempSync(join(tmpdir(), "warden-key-")), "audit.key");
    writeKeyFiles(other, "another");
    const b = spawnStart({ ...s.env, WARDEN_AUDIT_KEY: other });
    expect(await b.exited).toBe(2);
    const lines = b.logs().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /WARDEN_AUDIT_KEY is not the audit signing key the other Warden processes/,
    );
    expect(lines[0]).toMatch(/start this process with their key/);
    // The first runs on, untouched.
    expect(a.child.exitCode).toBeNull();
    expect(await a.stop("SIGTERM", LONG), a.logs()).toBe(0);
  });
});

describe("a polling leader frozen past its lease (SIGSTOP), then woken", {
  timeout: 240_000,
}, () => {
  it("stands by once woken: it neither polls nor confirms an offset with its stale token, and nothing is lost or kept twice", async () => {
    const s = await startLiveStage();
    stage = s;
    const c = s.sim.control;
    const a = spawnStart(s.env);
    await running(a);
    const b = spawnStart(s.env);
    await running(b);
    const leader = (await pollLeader(s.redis)) === a.child.pid ? a : b;
    const standby = leader === a ? b : a;
    const say = (i: number) =>
      c.sendMessage(s.group, { from_id: (i % 2 === 0 ? s.alice : s.bob).id, text: `bericht ${i}` });
    for (let i = 0; i < 20; i++) await say(i);
    await eventually(async () => (await keptMessages(s)).messages === 20, LONG);
    const staleToken = Number(await s.redis.hget(replicaKeys.pollLease(), "token"));

    // Frozen: its lease lapses, the standby takes it over with a newer token and polls.
    leader.child.kill("SIGSTOP");
    await eventually(async () => (await pollLeader(s.redis)) === standby.child.pid, LONG);
    for (let i = 20; i < 40; i++) await say(i);
    await eventually(async () => (await keptMessages(s)).messages === 40, LONG);
    const newToken = Number(await s.redis.hget(replicaKeys.pollLease(), "token"));
    expect(newToken).toBeGreaterThan(staleToken);
    const wokenAt = Date.now();
    leader.child.kill("SIGCONT");
    await eventually(() => leader.logs().includes("lost the polling lease"), LONG);
    for (let i = 40; i < 60; i++) await say(i);
    await eventually(async () => (await keptMessages(s)).messages === 60, LONG);

    const calls = (await c.calls(0, { method: "getUpdates" })).filter(
      (call) => call.answered_at > wokenAt,
    );
    // Every poll after the wake-up was the new leader's: a second poller would have one of the two
    // answered with a Conflict (the frozen leader's own last poll got its Conflict before it woke).
    expect(calls.filter((call) => call.error_code === 409)).toEqual([]);
    expect(await s.redis.hget(replicaKeys.pollOffset(), "token")).toBe(String(newToken));
    expect(await pollLeader(s.redis)).toBe(standby.child.pid);
    for (const w of [leader, standby]) expect(await w.stop("SIGTERM", LONG), w.logs()).toBe(0);
    const kept = await keptMessages(s);
    expect(kept.messages).toBe(60);
    expect(kept.counted).toBe(60);
    expect([...kept.collected.values()].filter((n) => n > 1)).toEqual([]);
    await expectLogVerifies(s.redis, s.caseId);
  });
});
