/**
 * One bot's update queue and its long poll, with Telegram's getUpdates
 * semantics: updates stay until a later call confirms them with an `offset`
 * above their id; a negative offset keeps only the newest ones;
 * `allowed_updates` is remembered between calls and filters updates when
 * they are created (not when they are read); and a second concurrent
 * getUpdates ends the first one with 409.
 */
import type { TgUpdate } from "../bot-api-objects.ts";
import { BotApiError, conflict } from "../errors.ts";

/** Update kinds a bot gets only when it lists them in allowed_updates. */
export const OPT_IN_UPDATES = ["chat_member", "message_reaction", "message_reaction_count"];

interface PendingPoll {
  limit: number;
  finish(result: TgUpdate[] | BotApiError): void;
}

export interface UpdateQueue {
  nextUpdateId: number;
  items: TgUpdate[];
  /** The last allowed_updates given; undefined or empty means the default set. */
  allowed?: string[];
  poll?: PendingPoll;
  /** Wall-clock ms at which the open long poll started, for observers. */
  pollOpenedAt?: number;
  flushScheduled: boolean;
  /** Called after updates are queued; the webhook deliverer hooks in here. */
  onEnqueue?: () => void;
}

export function createUpdateQueue(): UpdateQueue {
  return {
    nextUpdateId: 100000000 + Math.floor(Math.random() * 800000000),
    items: [],
    flushScheduled: false,
  };
}

export function acceptsUpdate(queue: UpdateQueue, type: string): boolean {
  if (!queue.allowed || queue.allowed.length === 0) return !OPT_IN_UPDATES.includes(type);
  return queue.allowed.includes(type);
}

/** Queues an update of `type` unless the bot's allowed_updates filter it out. */
export function enqueueUpdate(
  queue: UpdateQueue,
  type: string,
  payload: unknown,
): TgUpdate | undefined {
  if (!acceptsUpdate(queue, type)) return undefined;
  const update: TgUpdate = { update_id: queue.nextUpdateId++, [type]: payload };
  queue.items.push(update);
  if (!queue.flushScheduled && (queue.poll || queue.onEnqueue)) {
    queue.flushScheduled = true;
    // Let one operation's updates (say a join's service message and
    // chat_member) land in the same batch, as they do on Telegram.
    setImmediate(() => flush(queue));
  }
  return update;
}

function flush(queue: UpdateQueue) {
  queue.flushScheduled = false;
  const poll = queue.poll;
  if (poll && queue.items.length > 0) {
    queue.poll = undefined;
    queue.pollOpenedAt = undefined;
    poll.finish(queue.items.slice(0, poll.limit));
  }
  queue.onEnqueue?.();
}

/** Forgets updates the caller confirmed through `offset`. */
export function confirmUpdates(queue: UpdateQueue, offset: number | undefined) {
  if (offset === undefined || offset === 0) return;
  if (offset > 0) {
    const index = queue.items.findIndex((u) => u.update_id >= offset);
    queue.items = index === -1 ? [] : queue.items.slice(index);
  } else {
    queue.items = queue.items.slice(offset);
  }
}

export function dropPendingUpdates(queue: UpdateQueue) {
  queue.items = [];
}

export interface PollOptions {
  offset?: number;
  limit: number;
  timeoutSeconds: number;
  allowedUpdates?: string[];
  /** Fires when the client goes away; the poll then ends quietly. */
  signal?: AbortSignal;
}

/** Ends an open long poll with the Conflict error, as a newer request does. */
export function terminatePoll(queue: UpdateQueue) {
  const previous = queue.poll;
  if (!previous) return;
  queue.poll = undefined;
  queue.pollOpenedAt = undefined;
  previous.finish(
    conflict(
      "terminated by other getUpdates request; make sure that only one bot instance is running",
    ),
  );
}

export function pollUpdates(queue: UpdateQueue, options: PollOptions): Promise<TgUpdate[]> {
  terminatePoll(queue);
  if (options.allowedUpdates) queue.allowed = options.allowedUpdates;
  confirmUpdates(queue, options.offset);
  const ready = queue.items.slice(0, options.limit);
  // A client that already hung up gets its answer at once: an aborted signal fires no more events.
  const waits = ready.length === 0 && options.timeoutSeconds > 0 && !options.signal?.aborted;
  if (!waits) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const onAbort = () => poll.finish([]);
    const timer = setTimeout(() => poll.finish([]), options.timeoutSeconds * 1000);
    const poll: PendingPoll = {
      limit: options.limit,
      finish(result) {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (queue.poll === poll) {
          queue.poll = undefined;
          queue.pollOpenedAt = undefined;
        }
        if (result instanceof BotApiError) reject(result);
        else resolve(result);
      },
    };
    options.signal?.addEventListener("abort", onAbort);
    queue.poll = poll;
    queue.pollOpenedAt = Date.now();
  });
}
