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
 *
 * The view never holds the rehearsal back: before each jump of the clock
 * the session reads only what it decides on (the requests waiting for the
 * supervisor), and the whole view is read again beside the rehearsal, at
 * most once per `REFRESH_GAP_MS` and the chats only when something could
 * have changed them. Reading everything back before every jump made a
 * rehearsal at full speed take about twice as long in the studio as on the
 * command line (`npm run bench -- console`). The view may lag a moment; the
 * last one, after the end, is read whole.
 */

export type SessionState = "starting" | "running" | "paused" | "finished" | "failed";

/** Speeds: simulated seconds per real second; 0 jumps without pausing. */
export const SPEEDS = [60, 600, 3600, 86_400, 0] as const;

/**
 * The least time between two reads of the whole view. A tab is sent a view
 * at most every 100 ms (`./server.ts`), so reading it more often only takes
 * the machine from the rehearsal.
 */
const REFRESH_GAP_MS = 100;

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
  private soon: NodeJS.Timeout | undefined;
  private lastRefreshMs = 0;
  private closed = false;
  private scenario: Scenario | undefined;
  /** What the chats were read at (`chatsMark`): unchanged, they are not read again. */
  private chatsReadAt = "";
  /** What the requests for approval were read at (the simulator's count of Bot API calls). */
  private approvalsReadAt = -1;
  private approvalsReading: Promise<void> | undefined;
  /** Updates the simulator delivered: a member's message, press or join changes a chat. */
  private updates = 0;
  private readonly countUpdate = () => {
    this.updates++;
  };

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
      r.sim.sim.events.on("update", this.countUpdate);
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
        // The last view is read whole, after everything a refresh beside the rehearsal may still read.
        await this.refreshNow();
        this.set({ state: "finished", result });
      } finally {
        // Closed first, so no read of the view starts on a rehearsal being taken down.
        this.closed = true;
        if (this.soon) clearTimeout(this.soon);
        r.sim.sim.events.off("update", this.countUpdate);
        await r.close().catch(() => undefined);
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
    await this.readApprovals();
    this.changed();
    this.wake?.();
  }

  /**
   * Before each jump of the clock: wait for an answer to a request, for
   * resume, and by the speed. Only the requests are read here; the rest of
   * the view follows beside the rehearsal.
   */
  private async pace(fromMs: number, toMs: number): Promise<boolean> {
    this.view.clock = new Date(fromMs).toISOString();
    this.changed();
    let answered = false;
    for (;;) {
      const waiting = (await this.readApprovals()) > 0;
      if (!waiting && answered) return true;
      if (!waiting && this.view.state === "running") break;
      if (!waiting && this.steps > 0) {
        this.steps--;
        return false;
      }
      answered ||= waiting;
      await this.sleep();
    }
    const speed = this.view.speed;
    if (speed > 0) await this.sleep(Math.min(5000, (toMs - fromMs) / speed));
    return false;
  }

  /** Nothing more is due: keep going while a request waits for the supervisor. */
  private async idle(): Promise<boolean> {
    const r = this.rehearsal;
    if (r) this.view.clock = new Date(r.sim.sim.clock.nowMs()).toISOString();
    this.changed();
    if ((await this.readApprovals()) === 0) return false;
    await this.sleep();
    return true;
  }

  /**
   * The requests waiting for the supervisor, read again only when the bot
   * made a Bot API call since (a request, and the end of one, is the bot
   * posting or editing a message); the watchers are told when they changed.
   * One read at a time, so an older read never lands after a newer one.
   */
  private async readApprovals(): Promise<number> {
    for (;;) {
      const r = this.rehearsal;
      if (!r || this.closed) return this.view.approvals.length;
      if (this.approvalsReading) {
        await this.approvalsReading;
        continue;
      }
      const mark = r.sim.sim.calls.last();
      if (mark === this.approvalsReadAt) return this.view.approvals.length;
      this.approvalsReading = (async () => {
        const approvals = await r.pendingApprovals();
        this.approvalsReadAt = mark;
        const before = this.view.approvals.map((a) => a.messageId).join();
        this.view.approvals = approvals;
        if (approvals.map((a) => a.messageId).join() !== before) this.publish();
      })().finally(() => {
        this.approvalsReading = undefined;
      });
    }
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

  /**
   * Something happened: read the view again soon, beside the rehearsal — at
   * once when the last read is `REFRESH_GAP_MS` old, else when it will be;
   * changes meanwhile are read together.
   */
  private changed(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    if (this.soon || this.closed) return;
    const wait = Math.max(0, this.lastRefreshMs + REFRESH_GAP_MS - Date.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, wait);
  }

  /** Reads the whole view now and waits for it (after any read already going). */
  private async refreshNow(): Promise<void> {
    // A read already going may have read the chats before the last change: wait, then read anew.
    while (this.refreshing) await this.refreshing;
    if (this.soon) clearTimeout(this.soon);
    this.soon = undefined;
    const r = this.rehearsal;
    if (r) this.view.clock = new Date(r.sim.sim.clock.nowMs()).toISOString();
    this.chatsReadAt = "";
    await this.refresh();
  }

  /** A mark that moves whenever a chat may have changed: a Bot API call, a delivered update, the clock. */
  private chatsMark(r: Rehearsal): string {
    return `${r.sim.sim.calls.last()}:${this.updates}:${r.sim.sim.clock.nowMs()}`;
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
        this.lastRefreshMs = Date.now();
        const r = this.rehearsal;
        if (!r || this.closed) break;
        try {
          const seen = this.view.audit.at(-1)?.seq ?? 0;
          const fresh = await entriesSince(r.redis, r.caseId, seen);
          const alias = Object.keys(r.aliases)[0] as string;
          const chatId = r.aliases[alias] as number;
          const run = await currentRun(r.redis, r.caseId, chatId).catch(() => undefined);
          this.view.audit.push(...fresh.filter((e) => e.seq > seen));
          await this.readApprovals();
          const mark = this.chatsMark(r);
          if (mark !== this.chatsReadAt) {
            this.view.chats = await viewChats(r);
            this.chatsReadAt = mark;
          }
          this.view.timeline = timelineOf(this.scenario, this.view.audit, run);
        } catch (err) {
          // The rehearsal may be closing under us; its own end says what happened.
          this.opts.logger.debug({ err }, "console: could not refresh a rehearsal's view");
        }
        this.publish();
      } while (this.again && !this.closed && Date.now() - this.lastRefreshMs >= REFRESH_GAP_MS);
    })().finally(() => {
      this.refreshing = undefined;
      // Changes that came while reading, sooner than the gap allows: read them when it has passed.
      if (this.again) {
        this.again = false;
        this.changed();
      }
    });
    return this.refreshing;
  }
}
