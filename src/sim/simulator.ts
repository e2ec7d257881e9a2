/**
 * The simulator's root object: the world, the clock, and the machinery
 * around them (files, call log, fault injection, rate limits). Both the Bot
 * API methods and the control API operate on one `Simulator`.
 */
import { EventEmitter } from "node:events";
import { type CallLog, type CallRecord, createCallLog } from "./calls.ts";
import { createClock, type SimClock } from "./clock.ts";
import { createFileStore, type FileStore } from "./files.ts";
import { createIdAllocator, type IdAllocator } from "./ids.ts";
import { createFaultInjector, type FaultInjector } from "./limits/faults.ts";
import { createRateLimiter, type RateLimiter } from "./limits/rate-limit.ts";
import type { MemberAlbumInput, MemberMessageInput } from "./member-message-input.ts";
import { createWorldState, type WorldState } from "./model.ts";
import type { Violation } from "./spec/validate.ts";

/** A member message the control API plays once the clock reaches `at`. */
export interface ScheduledMessage {
  at: number;
  chatId: number;
  input: MemberMessageInput;
  /** Name other messages use in `reply_to`. */
  label?: string;
  /** Label of the message this one replies to. */
  replyTo?: string;
  /** Key of the forum topic it goes to (declared by the world or opened by an earlier entry). */
  topic?: string;
  /** An album instead of one message: its items, and the order bots receive them in. */
  album?: Pick<MemberAlbumInput, "items" | "delivery_order">;
  /** Instead of a message, `input.from_id` opens a forum topic, named `key` (or its name) for later entries. */
  newTopic?: { key?: string; name: string; iconColor?: number };
}

export interface SimulatorOptions {
  /** Telegram's flood limits; on unless switched off. */
  rateLimits?: boolean;
  /**
   * The clock the flood limits count on: the wall clock (the default: a bot
   * with real timers talking to the simulator), or the simulated clock, for a
   * client that keeps its own send windows on the simulated clock too (a
   * rehearsal that jumps the clock instead of waiting).
   */
  rateLimitClock?: "wall" | "simulated";
  /** Validate every successful result against the spec and fail loudly on a mismatch. */
  selfCheck?: boolean;
  /** Start of the simulated clock in milliseconds; defaults to now. */
  startMs?: number;
}

export interface SimEvents {
  update: [botId: number, update: Record<string, unknown>];
  call: [record: CallRecord];
}

export interface Simulator {
  clock: SimClock;
  ids: IdAllocator;
  world: WorldState;
  files: FileStore;
  calls: CallLog;
  faults: FaultInjector;
  limits: RateLimiter;
  /** Now, in ms, on the clock the flood limits count on (see SimulatorOptions.rateLimitClock). */
  limitsNowMs(): number;
  selfCheck: boolean;
  timeline: ScheduledMessage[];
  /** Labels of played timeline messages: label → [chat id, message id]. */
  labels: Map<string, [number, number]>;
  /** Forum topics of the world and its timeline by key (their name unless given one): chat id → key → thread id. */
  topicKeys: Map<number, Map<string, number>>;
  violations: { method: string; violations: Violation[] }[];
  events: EventEmitter<SimEvents>;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const clock = createClock(options.startMs);
  return {
    clock,
    ids: createIdAllocator(),
    world: createWorldState(),
    files: createFileStore(),
    calls: createCallLog(),
    faults: createFaultInjector(),
    limits: createRateLimiter(options.rateLimits ?? true),
    limitsNowMs: options.rateLimitClock === "simulated" ? () => clock.nowMs() : () => Date.now(),
    selfCheck: options.selfCheck ?? false,
    timeline: [],
    labels: new Map(),
    topicKeys: new Map(),
    violations: [],
    events: new EventEmitter<SimEvents>(),
  };
}

/** Empties the world and the logs, keeping the options. */
export function resetSimulator(sim: Simulator) {
  for (const bot of sim.world.bots.values()) {
    bot.updates.poll?.finish([]);
    bot.webhook = undefined;
    bot.updates.onEnqueue = undefined;
  }
  sim.world = createWorldState();
  sim.ids = createIdAllocator();
  sim.files = createFileStore();
  sim.calls.clear();
  sim.faults.clear();
  sim.limits.reset();
  sim.timeline = [];
  sim.labels.clear();
  sim.topicKeys.clear();
  sim.violations = [];
  sim.clock.set(Date.now());
}
