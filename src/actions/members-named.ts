import { z } from "zod";
import { isDuration, parseDurationSeconds } from "../base/duration.ts";
import { UsageError } from "../base/usage-error.ts";
import { userIdByUsername } from "../collect/queries.ts";
import type { ActionEnv } from "./context.ts";
import type { CommandInput } from "./definition.ts";

/**
 * How people name members: a numeric Telegram id (negative for a channel
 * posting in the group), an @username as Warden has seen it (Telegram offers
 * no lookup), or, in a command, a reply to the member's message. References
 * stay as written until an action runs, so an approval request stores what
 * the operator typed and the approved action resolves it with what Warden
 * knows by then.
 */

export const MemberRef = z
  .union([z.number().int(), z.string().regex(/^@[A-Za-z0-9_]{4,32}$/)])
  .describe("A member: numeric Telegram id or @username (as seen by Warden).");
export type MemberRef = z.infer<typeof MemberRef>;

/** One word of a command → a member reference, or a usage error saying what to write. */
export function parseMemberRef(word: string): MemberRef {
  if (/^-?\d{1,16}$/.test(word)) return Number(word);
  if (/^@[A-Za-z0-9_]{4,32}$/.test(word)) return word;
  throw new UsageError(
    `"${word}" is not a user: give a numeric id, an @username, or reply to their message`,
  );
}

/**
 * The members a command names: the author of the message replied to, then
 * each word; an optional trailing duration (`2h`, `1d12h`) when `withDuration`.
 */
export function membersOfCommand(
  input: CommandInput,
  withDuration: boolean,
): { targets: MemberRef[]; seconds?: number } {
  const words = [...input.words];
  const last = words.at(-1)?.toLowerCase();
  const seconds =
    withDuration && last !== undefined && isDuration(last) ? parseDurationSeconds(last) : undefined;
  if (seconds !== undefined) words.pop();
  const targets: MemberRef[] = [];
  if (input.replyTo?.senderId !== undefined) targets.push(input.replyTo.senderId);
  for (const word of words) targets.push(parseMemberRef(word));
  if (targets.length === 0)
    throw new UsageError("name who: reply to their message, or give a numeric id or @username");
  return { targets: [...new Set(targets)], ...(seconds !== undefined ? { seconds } : {}) };
}

/** References → Telegram ids, in order and without repeats; every @username must have been seen in the case. */
export async function resolveMembers(
  env: ActionEnv,
  caseId: string,
  refs: readonly MemberRef[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const ref of refs) {
    if (typeof ref === "number") {
      ids.push(ref);
      continue;
    }
    const id = await userIdByUsername(env.redis, caseId, ref);
    if (id === undefined)
      throw new UsageError(`${ref} has not been seen in case ${caseId}: use their numeric id`);
    ids.push(id);
  }
  return [...new Set(ids)];
}
