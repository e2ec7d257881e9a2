import { entriesSince } from "../../audit/recent.ts";
import { showInvisible } from "../../base/html.ts";
import type { CallRecord, PlayedMessage, SimClient } from "../../sim/index.ts";
import type { Redis } from "../../store/redis.ts";
import {
  auditLine,
  CONTINUATION,
  describeCall,
  describeEntry,
  describePlayed,
  firstLine,
  type Memory,
  type Names,
  stamp,
} from "../transcript.ts";
import { describeRecordedAnswer } from "../transcript-answers.ts";
import type { MarkedAudit } from "./marks.ts";

/**
 * Following what happens into the transcript, in the order it happened: the
 * simulator's record of the bot's Bot API calls (what members and operators
 * saw), each followed by the audit entries written after it (see
 * `./marks.ts`); members' messages as the clock plays them; and what the
 * rehearsal's own people do, each printed only after everything the bot did
 * before it. Printed from the records, not from the rehearsal's own
 * bookkeeping, so the transcript shows what happened.
 */
export interface Followed {
  control: SimClient;
  redis: Redis;
  caseId: string;
  botId: number;
  names: Names;
  audit: MarkedAudit;
  out(line: string): void;
  /** Print nothing and read nothing (a benchmark's rehearsal): only members' messages are counted. */
  quiet?: boolean;
}

export interface Follower {
  /** Prints what the bot did since the last look. */
  flush(): Promise<void>;
  /** Prints what the bot did so far, then `line` at simulated time `at` (seconds): a person acts. */
  act(at: number, line: string): Promise<void>;
  /**
   * Prints members' messages the clock just played. Call `flush` before
   * moving the clock: the bot may act on them before the move is answered,
   * and that is printed by the next `flush`, after them.
   */
  played(messages: readonly PlayedMessage[]): void;
  /** Messages seen: who wrote them, and what Warden wrote. */
  memory: Memory;
  /** Members' messages played so far. */
  count(): number;
}

/** Prints `text` at `at`: its first line after the stamp, further lines indented beneath. */
export function emit(out: (line: string) => void, at: number, text: string): void {
  const [first, ...rest] = text.split("\n");
  out(`${stamp(at)} ${first}`);
  for (const line of rest) out(`${CONTINUATION}${line}`);
}

export function follow(from: Followed): Follower {
  const cursor = { call: 0, seq: 0 };
  const authors = new Map<string, number>();
  const botTexts = new Map<string, string>();
  const key = (chatId: number, messageId: number) => `${chatId}:${messageId}`;
  let playedCount = 0;
  const memory: Memory = {
    authorOf: (chatId, messageId) => authors.get(key(chatId, messageId)),
    botText: (chatId, messageId) => botTexts.get(key(chatId, messageId)),
  };

  /** Remembers the message a successful send made, by its first line. */
  function remember(call: CallRecord): void {
    if (!call.ok || !/^send/.test(call.method)) return;
    const sent = call.result as { message_id?: number; chat?: { id: number }; text?: string };
    if (sent?.message_id === undefined || sent.chat === undefined) return;
    const text = (call.params as { text?: string }).text ?? sent.text;
    if (text !== undefined) botTexts.set(key(sent.chat.id, sent.message_id), firstLine(text));
  }

  function printCall(call: CallRecord): void {
    if (call.bot_id !== from.botId) return;
    const line = describeCall(call, from.names, memory);
    remember(call);
    if (line) emit(from.out, call.time, line);
  }

  async function allCalls(since: number): Promise<CallRecord[]> {
    const calls: CallRecord[] = [];
    for (let after = since; ; ) {
      const page = await from.control.calls(after);
      if (page.length === 0) return calls;
      calls.push(...page);
      after = (page.at(-1) as CallRecord).seq;
    }
  }

  async function flush(): Promise<void> {
    if (from.quiet) return;
    const calls = await allCalls(cursor.call);
    const entries = await entriesSince(from.redis, from.caseId, cursor.seq);
    let next = 0;
    for (const e of entries) {
      // Calls made before the entry was written come first; an entry written elsewhere comes last.
      const mark = from.audit.markOf(from.caseId, e.seq) ?? Number.POSITIVE_INFINITY;
      while (next < calls.length && (calls[next] as CallRecord).seq <= mark)
        printCall(calls[next++] as CallRecord);
      cursor.seq = Math.max(cursor.seq, e.seq);
      const line =
        (await describeRecordedAnswer(from.redis, e, from.names)) ??
        describeEntry(e, from.names, memory);
      if (line) from.out(auditLine(line));
    }
    while (next < calls.length) printCall(calls[next++] as CallRecord);
    cursor.call = Math.max(cursor.call, calls.at(-1)?.seq ?? 0);
    from.audit.forget(from.caseId, cursor.seq);
  }

  return {
    flush,
    memory,
    count: () => playedCount,
    async act(at, line) {
      await flush();
      emit(from.out, at, line);
    },
    played(messages) {
      playedCount += messages.length;
      if (from.quiet) return;
      for (const p of messages) {
        if (p.ok) {
          const m = p.message as { message_id: number; from?: { id: number } };
          if (m.from) authors.set(key(p.chat_id, m.message_id), m.from.id);
        }
        emit(from.out, p.at, describePlayed(p, from.names, memory));
      }
    },
  };
}

/**
 * Names for the transcript: people by their names (the officers by the names
 * their roles carry, as Warden's own messages call them), seized chats by
 * alias, the control room.
 */
export async function namesOf(
  control: SimClient,
  where: { room: number; aliases: Record<string, number>; officers?: Record<number, string> },
): Promise<Names> {
  const people = new Map(
    (await control.users()).map((u) => [
      u.id,
      showInvisible([u.first_name, u.last_name].filter(Boolean).join(" ")),
    ]),
  );
  const groups = new Map(
    Object.entries(where.aliases).map(([alias, id]) => [id, `group ${alias}`]),
  );
  const user = (id: number) => where.officers?.[id] ?? people.get(id) ?? `user ${id}`;
  return {
    user,
    chat: (id) =>
      id === where.room
        ? "the control room"
        : (groups.get(id) ?? (id > 0 ? user(id) : `chat ${id}`)),
  };
}
