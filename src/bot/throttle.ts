import type { Transformer } from "grammy";

/**
 * Keeps sends within Telegram's flood limits, so a takeover never meets a 429:
 * about 30 messages a second overall, 20 a minute in one group, one a second
 * in one private chat. Telegram counts these over sliding windows, so each
 * limit here is a sliding window too: a send takes a slot that comes back a
 * window (and a small margin for requests that arrive late) after the send
 * went out. A burst within a limit goes at once — an operator's answers are
 * not held back — and the next send waits only as long as it must.
 *
 * Only sends are limited: admin calls (restrict, delete, getChat…) are not
 * counted by Telegram that way, and queueing them behind messages would slow
 * a takeover for nothing. Each chat's sends go out one at a time, in order.
 *
 * Windows are measured on a clock given to the throttler: the wall clock in a
 * live run, the simulated clock in a rehearsal, where the simulator counts
 * Telegram's limits on that clock too and a minute's window passes when the
 * rehearsal moves the clock, not when a real minute has gone by. A send goes
 * out the moment its slots are free — when the call before it in its chat is
 * answered, or when a slot comes back — never on a timer of its own, so
 * whoever moves the clock can tell a send held for a window (`waiting()`
 * with nothing in flight) from one about to go.
 */

export interface Window {
  limit: number;
  windowMs: number;
}

export interface SendLimits {
  overall: Window;
  group: Window;
  privateChat: Window;
}

/** Telegram's limits, each window with a margin for network jitter. */
export const TELEGRAM_SEND_LIMITS: SendLimits = {
  overall: { limit: 30, windowMs: 1_050 },
  group: { limit: 20, windowMs: 61_000 },
  privateChat: { limit: 1, windowMs: 1_050 },
};

/** The clock the windows pass on. */
export interface ThrottleClock {
  /** Calls `fn` once `ms` milliseconds have passed on this clock. */
  after(ms: number, fn: () => void): void;
}

/** The wall clock, for live runs; its timers do not keep the process alive. */
export const WALL_CLOCK: ThrottleClock = {
  after(ms, fn) {
    setTimeout(fn, ms).unref();
  },
};

export interface SendThrottleOptions {
  /** Overrides of Telegram's limits (tests use short windows). */
  limits?: Partial<SendLimits>;
  /** Where the windows pass; the wall clock unless given (a rehearsal gives the simulated one). */
  clock?: ThrottleClock;
}

/** The transformer, and what it holds right now (a rehearsal moves its clock by these). */
export type SendThrottler = Transformer & {
  /** Sends held back, waiting for their chat's earlier send or for a window to pass. */
  waiting(): number;
  /** Bot API calls of any method but getUpdates sent and not answered yet. */
  inFlight(): number;
};

/** Methods that post a message: the ones Telegram's flood limits count. */
const SENDING = /^(send|copy|forward)/;

/** Groups and channels: negative ids, or a public @username. */
function isGroupChat(chatId: unknown): boolean {
  if (typeof chatId === "number") return chatId < 0;
  return typeof chatId === "string" && (chatId.startsWith("-") || chatId.startsWith("@"));
}

/** A window's slots: `taken` of `limit` went out within the last `windowMs`. */
interface Slots {
  limit: number;
  windowMs: number;
  taken: number;
}

/** A send waiting for its slots; `seq` keeps the order sends were asked for across chats. */
interface Job {
  seq: number;
  go(done: () => void): void;
}

/** One chat's sends: one at a time, in order, within the chat's window. */
interface ChatLine {
  slots: Slots;
  queue: Job[];
  sending: boolean;
}

/**
 * The transformer for `bot.api.config.use`. Exported as a function of its own
 * so conversations, whose API client does not inherit `bot.api`'s
 * transformers, can install the same instance (one set of windows per bot).
 */
export function sendThrottler(opts: SendThrottleOptions = {}): SendThrottler {
  const limits = { ...TELEGRAM_SEND_LIMITS, ...opts.limits };
  const clock = opts.clock ?? WALL_CLOCK;
  const overall: Slots = { ...limits.overall, taken: 0 };
  // A chat's line exists while it has sends queued, in flight or slots out, and is dropped after.
  const chats = new Map<string, ChatLine>();
  let asked = 0;
  let waiting = 0;
  let inFlight = 0;

  /** Takes a slot; it comes back a window later on the clock, and then whoever waits for it may go. */
  const take = (slots: Slots, back: () => void) => {
    slots.taken++;
    clock.after(slots.windowMs, () => {
      slots.taken--;
      back();
    });
  };
  const ready = (line: ChatLine) =>
    !line.sending && line.queue.length > 0 && line.slots.taken < line.slots.limit;

  /** Sends the next of a chat's sends if its slots are free; otherwise a slot's return calls again. */
  function pump(key: string): void {
    const line = chats.get(key);
    if (!line) return;
    if (!ready(line) || overall.taken >= overall.limit) {
      if (!line.sending && line.queue.length === 0 && line.slots.taken === 0) chats.delete(key);
      return;
    }
    const job = line.queue.shift() as Job;
    waiting--;
    line.sending = true;
    take(line.slots, () => pump(key));
    take(overall, pumpAll);
    job.go(() => {
      line.sending = false;
      pump(key);
    });
  }

  /** An overall slot came back: the chats that can send go, those asked first first. */
  function pumpAll(): void {
    while (overall.taken < overall.limit) {
      let next: string | undefined;
      let first = Number.POSITIVE_INFINITY;
      for (const [key, line] of chats) {
        const head = line.queue[0];
        if (head && head.seq < first && ready(line)) {
          first = head.seq;
          next = key;
        }
      }
      if (next === undefined) return;
      pump(next);
    }
  }

  const call: Transformer = async (prev, method, payload, signal) => {
    if (method === "getUpdates") return prev(method, payload, signal);
    inFlight++;
    try {
      return await prev(method, payload, signal);
    } finally {
      inFlight--;
    }
  };

  const transformer: Transformer = (prev, method, payload, signal) => {
    if (!SENDING.test(method)) return call(prev, method, payload, signal);
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const window = isGroupChat(chatId) ? limits.group : limits.privateChat;
    const key = String(chatId);
    const line = chats.get(key) ?? { slots: { ...window, taken: 0 }, queue: [], sending: false };
    chats.set(key, line);
    // Both windows count from the moment the request actually goes out.
    return new Promise((resolve, reject) => {
      line.queue.push({
        seq: asked++,
        go(done) {
          call(prev, method, payload, signal).then(resolve, reject).finally(done);
        },
      });
      waiting++;
      pump(key);
    }) as ReturnType<Transformer>;
  };
  return Object.assign(transformer, {
    waiting: () => waiting,
    inFlight: () => inFlight,
  });
}
