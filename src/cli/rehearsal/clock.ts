import type { PlayedMessage, SimClient } from "../../sim/index.ts";
import type { RehearsalSection, ScriptEntry } from "../rehearsal-world.ts";

/**
 * The simulated clock, moved by the rehearsal and by nothing else: from one
 * thing that happens to the next — a member's message on the world's
 * timeline, an entry of the rehearsal script, a scenario's timer, a send
 * window the bot waits for. The bot is settled before and after each script
 * entry, so each entry meets a bot that has handled everything before it.
 */

/** The rehearsal script in time order, and how much of it has been played. */
export interface Script {
  /** The world's start (ms); script entries are `at` seconds after it. */
  startMs: number;
  entries: ScriptEntry[];
  played: number;
}

export function scriptOf(worldText: string, section: RehearsalSection, nowMs: number): Script {
  return {
    startMs: worldStartMs(worldText) ?? nowMs,
    entries: [...section.script].sort((a, b) => a.at - b.at),
    played: 0,
  };
}

/** When the next script entry is due (ms), or undefined when all are played. */
export function nextScriptMs(script: Script): number | undefined {
  const entry = script.entries[script.played];
  return entry ? script.startMs + entry.at * 1000 : undefined;
}

export interface ClockStage {
  control: SimClient;
  clock: { nowMs(): number };
  /** Prints what the bot did so far: the messages the clock plays next come after it. */
  flush(): Promise<void>;
  /** Prints the members' messages the clock played. */
  played(messages: readonly PlayedMessage[]): void;
  /** Fires the bot's send-window timers that fell due (`./timers.ts`). */
  fireTimers(): void;
  settle(): Promise<unknown>;
  play(entry: ScriptEntry): Promise<void>;
}

/** Moves the clock to `ms`, printing the timeline's messages and playing script entries due on the way. */
export async function advanceTo(ms: number, script: Script, on: ClockStage): Promise<void> {
  for (;;) {
    const entry = script.entries[script.played];
    const entryMs = nextScriptMs(script) ?? Number.POSITIVE_INFINITY;
    const target = Math.min(entryMs, ms);
    const seconds = Math.max(0, (target - on.clock.nowMs()) / 1000);
    if (seconds > 0) {
      // The bot may answer a message before this call returns; what it did before comes first.
      await on.flush();
      const played = await on.control.advanceClock(seconds);
      on.played(played.played);
    }
    on.fireTimers();
    if (!entry || entryMs > ms) return;
    script.played++;
    await on.settle();
    await on.play(entry);
    await on.settle();
  }
}

/**
 * When the next thing happens (ms): the timeline's next step, the next
 * script entry, the scenario engine's next timer or the end of the send
 * window a held-back send waits for; undefined when nothing is left to
 * happen.
 */
export async function nextEventMs(
  timeline: ReadonlyArray<{ at: number }>,
  script: Script,
  nextTimer: () => Promise<number | undefined>,
  nextWindow: () => number | undefined,
): Promise<number | undefined> {
  const candidates = [
    timelineStep(timeline),
    nextScriptMs(script),
    await nextTimer(),
    nextWindow(),
  ].filter((t): t is number => t !== undefined);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

/**
 * Where the next clock jump should end for the world's timeline: at its next
 * message, or — when members write faster than 20 messages in 5 simulated
 * minutes — after a batch of them, so a busy world does not cost a round of
 * polling per message. Limits and ladders count by each message's own date.
 */
function timelineStep(timeline: ReadonlyArray<{ at: number }>): number | undefined {
  const first = timeline[0];
  if (!first) return undefined;
  let end = first.at;
  let count = 0;
  for (const entry of timeline.slice(0, 500)) {
    if (entry.at > first.at + 300) break;
    end = entry.at;
    count++;
  }
  return (count >= 20 ? end : first.at) * 1000;
}

/** The world file's top-level `start:` as written (an ISO date in the shipped worlds). */
/** The world's `start:` in ms: an ISO date, or Unix seconds as the simulator also accepts. */
function worldStartMs(worldText: string): number | undefined {
  const value = /^start:\s*["']?([^"'\s#]+)/m.exec(worldText)?.[1];
  if (value === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
