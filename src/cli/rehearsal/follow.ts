import type { Redis } from "ioredis";
import { entriesSince } from "../../audit/recent.ts";
import { showInvisible } from "../../base/html.ts";
import type { SimClient } from "../../sim/index.ts";
import { auditLine, describeCall, describeEntry, type Names, stamp } from "../transcript.ts";
import { describeRecordedAnswer } from "../transcript-answers.ts";

/**
 * Following what the bot did into the transcript: the simulator's record of
 * the bot's Bot API calls (what members and operators saw), then the case's
 * audit log (each action with its seq), each from where the last look
 * stopped. Printed from the records, not from the rehearsal's own
 * bookkeeping, so the transcript shows what happened.
 */
export interface Followed {
  control: SimClient;
  redis: Redis;
  caseId: string;
  botId: number;
  names: Names;
  out(line: string): void;
}

/** How far the transcript has got: the last simulator call and audit seq looked at. */
export interface Cursor {
  call: number;
  seq: number;
}

/** Prints what happened since the cursor and moves it on. */
export async function flush(from: Followed, cursor: Cursor): Promise<void> {
  for (const call of await from.control.calls(cursor.call)) {
    cursor.call = Math.max(cursor.call, call.seq);
    if (call.bot_id !== from.botId) continue;
    const line = describeCall(call, from.names);
    if (line) from.out(`${stamp(call.time)} ${line}`);
  }
  for (const e of await entriesSince(from.redis, from.caseId, cursor.seq)) {
    cursor.seq = Math.max(cursor.seq, e.seq);
    const line = (await describeRecordedAnswer(from.redis, e, from.names)) ?? describeEntry(e);
    if (line) from.out(auditLine(line));
  }
}

/** Names for the transcript: people by their names, seized chats by alias, the control room. */
export async function namesOf(
  control: SimClient,
  where: { room: number; aliases: Record<string, number> },
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
  return {
    user: (id) => people.get(id) ?? String(id),
    chat: (id) =>
      id === where.room
        ? "control room"
        : (groups.get(id) ?? (id > 0 ? `${people.get(id) ?? id} (private)` : String(id))),
  };
}
