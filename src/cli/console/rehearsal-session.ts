import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { AuditEntry } from "../../audit/entry.ts";
import { entriesSince } from "../../audit/recent.ts";
import { createScenarioLibrary } from "../../scenario/definition/library.ts";
import type { Scenario } from "../../scenario/definition/schema.ts";
import { currentRun } from "../rehearsal/run.ts";
import { openRehearsal, type Rehearsal, type RehearsalResult } from "../rehearsal.ts";
import { legend } from "../transcript.ts";
import { type ChatsView, viewChats } from "./chats-view.ts";
import { type Timeline, timelineOf } from "./timeline.ts";

/**
 * One rehearsal played in the console: the runner of `warden rehearse`
 * (`../rehearsal.ts`), called in-process, with the author as the supervisor
 * (requests for approval wait for a button press, and the simulated clock
 * waits with them), a clock that can be paused, stepped and sped up, and a
 * view of everything — the chats as the simulator holds them, the
 * transcript, the timeline, the audit entries — sent to every watcher
 * (browser tab) each time it changes. A failure of the rehearsal is its
 * state, not the console's: the page says what failed and the server stays.
 */

export type SessionState = "starting" | "running" | "paused" | "finished" | "failed";

/** Speeds: simulated seconds per real second; 0 jumps without pausing. */
export const SPEEDS = [60, 600, 3600, 86_400, 0] as const;

export interface SessionView {
  id: string;
  state: SessionState;
  scenario: string;
  world?: string;
  speed: number;
  /** Simulated time, ISO. */
  clock?: string;
  caseId?: string;
  error?: string;
  /** Requests for approval the supervisor (the author) can answer now. */
  approvals: { messageId: number; text: string; buttons: { text: string; data: string }[] }[];
  chats?: ChatsView;
  timeline?: Timeline;
  transcript: string[];
  audit: AuditEntry[];
  result?: RehearsalResult & { verifyFailure?: string };
  /** Bumped on every change: a watcher that missed some catches up from the whole view. */
  version: number;
}

export interface SessionOptions {
  scenario: string;
  worldPath?: string;
  scenariosDir?: string;
  speed?: number;
  dataDir: string;
  redisUrl?: string;
  redisConnectTimeoutMs?: number;
  auditKeyPath?: string;
  logger: Logger;
}

export class RehearsalSession {
  readonly id = randomBytes(6).toString("hex");
  private rehearsal: Rehearsal | undefined;
  private watchers = new Set<(view: SessionView) => void>();
  private view: SessionView;
  private wake: (() => void) | undefined;
  private steps = 0;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private scenario: Scenario | undefined;

  constructor(private readonly opts: SessionOptions) {
    this.view = {
      id: this.id,
      state: "starting",
      scenario: opts.scenario,
      ...(opts.worldPath ? { world: opts.worldPath } : {}),
      speed: opts.speed ?? 3600,
      approvals: [],
      transcript: [],
      audit: [],
      version: 0,
    };
  }

  /** The whole view as it stands. */
  current(): SessionView {
    return this.view;
  }

  /** Calls `watcher` with every new view until the returned function is called. */
  watch(watcher: (view: SessionView) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Plays the rehearsal to its end; never throws (a failure is the session's state). */
  async run(): Promise<void> {
    try {
      const r = await openRehearsal({
        scenario: this.opts.scenario,
        ...(this.opts.worldPath ? { worldPath: this.opts.worldPath } : {}),
        ...(this.opts.scenariosDir ? { scenariosDir: this.opts.scenariosDir } : {}),
        dataDir: this.opts.dataDir,
        ...(this.opts.redisUrl ? { redisUrl: this.opts.redisUrl } : {}),
        ...(this.opts.redisConnectTimeoutMs
          ? { redisConnectTimeoutMs: this.opts.redisConnectTimeoutMs }
          : {}),
        ...(this.opts.auditKeyPath ? { auditKeyPath: this.opts.auditKeyPath } : {}),
        logger: this.opts.logger,
        logToFile: true,
        approvals: "manual",
        progress: { isTTY: false, write: () => true },
        pace: { wait: (from, to) => this.pace(from, to), idle: () => this.idle() },
        onTurn: () => this.changed(),
        out: (line) => {
          this.view.transcript.push(line);
          this.changed();
        },
      });
      this.rehearsal = r;
      this.scenario = (
        await createScenarioLibrary(r.scenariosDir)
          .get(r.scenarioId)
          .catch(() => undefined)
      )?.scenario;
      this.set({ state: "running", caseId: r.caseId });
      try {
        const alias = Object.keys(r.aliases)[0] as string;
        for (const line of legend(r.logPath ? { path: r.logPath } : "off"))
          this.view.transcript.push(line);
        await r.flush();
        await r.operatorSays(`/scenario start ${r.scenarioId} ${alias}`);
        await r.runUntilDone(alias);
        const result = await r.finish(alias);
        await this.refresh();
        this.set({ state: "finished", result });
      } finally {
        await r.close().catch(() => undefined);
        this.closed = true;
      }
    } catch (err) {
      this.opts.logger.warn({ err, rehearsal: this.id }, "console: the rehearsal failed");
      this.set({ state: "failed", error: (err as Error).message ?? String(err) });
    }
  }

  pause(): void {
    if (this.view.state === "running") this.set({ state: "paused" });
  }

  resume(): void {
    if (this.view.state === "paused") this.set({ state: "running" });
    this.wake?.();
  }

  /** While paused: let the clock make one more jump. */
  step(): void {
    this.steps++;
    this.wake?.();
  }

  setSpeed(speed: number): void {
    this.set({ speed });
    this.wake?.();
  }

  /** The author, as the supervisor, presses a button under a request for approval. */
  async answer(messageId: number, data: string): Promise<void> {
    const r = this.rehearsal;
    if (!r || this.closed) throw new Error("this rehearsal is not running");
    await r.answer(messageId, data);
    await this.refresh();
    this.wake?.();
  }

  /** Before each jump of the clock: wait for an answer to a request, for resume, and by the speed. */
  private async pace(fromMs: number, toMs: number): Promise<boolean> {
    await this.refresh();
    let answered = false;
    for (;;) {
      const waiting = this.view.approvals.length > 0;
      if (!waiting && answered) return true;
      if (!waiting && this.view.state === "running") break;
      if (!waiting && this.steps > 0) {
        this.steps--;
        return false;
      }
      answered ||= waiting;
      await this.sleep();
      await this.refresh();
    }
    const speed = this.view.speed;
    if (speed > 0) await this.sleep(Math.min(5000, (toMs - fromMs) / speed));
    return false;
  }

  /** Nothing more is due: keep going while a request waits for the supervisor. */
  private async idle(): Promise<boolean> {
    await this.refresh();
    if (this.view.approvals.length === 0) return false;
    await this.sleep();
    return true;
  }

  /** Until woken (an answer, resume, step, speed), or `ms` have passed. */
  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms !== undefined ? setTimeout(done, ms) : undefined;
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private set(patch: Partial<SessionView>): void {
    Object.assign(this.view, patch);
    this.publish();
  }

  private publish(): void {
    this.view.version++;
    for (const w of this.watchers) w(this.view);
  }

  /** Something happened: refresh the views soon (at most one refresh at a time). */
  private changed(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    void this.refresh();
  }

  /** Reads the chats, the run, the audit entries and the requests again, and tells the watchers. */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const r = this.rehearsal;
        if (!r || this.closed) break;
        try {
          const seen = this.view.audit.at(-1)?.seq ?? 0;
          const fresh = await entriesSince(r.redis, r.caseId, seen);
          const alias = Object.keys(r.aliases)[0] as string;
          const chatId = r.aliases[alias] as number;
          const run = await currentRun(r.redis, r.caseId, chatId).catch(() => undefined);
          this.view.audit.push(...fresh.filter((e) => e.seq > seen));
          this.view.approvals = await r.pendingApprovals();
          this.view.chats = await viewChats(r);
          this.view.timeline = timelineOf(this.scenario, this.view.audit, run);
          this.view.clock = new Date(r.sim.sim.clock.nowMs()).toISOString();
        } catch (err) {
          // The rehearsal may be closing under us; its own end says what happened.
          this.opts.logger.debug({ err }, "console: could not refresh a rehearsal's view");
        }
        this.publish();
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }
}
