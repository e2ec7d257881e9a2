import { keys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";
import type { CaseCache } from "./case-cache.ts";
import { collectKeys } from "./keys.ts";

/**
 * Private messages to the bot belong to no seized chat, yet everything Warden
 * keeps must belong to a case: that is where its audit log, its authority and
 * its retention live. The rule:
 *
 *   1. a private message is kept in every case in which its sender has been
 *      seen (as a member of a seized chat) or holds a role;
 *   2. a sender seen in no case is attributed to every open case, marked
 *      `attribution: "unseen"`, because someone who writes to the police bot
 *      unprompted is most likely answering a takeover warning;
 *   3. with no open case, to every case; with no case at all Warden collects
 *      nothing anywhere, and the message is logged as not kept.
 *
 * Nothing is ever kept outside a case.
 */

export interface Attribution {
  caseId: string;
  attribution: "seen" | "unseen";
}

export async function attributePrivate(
  redis: Redis,
  cache: CaseCache,
  userId: number,
): Promise<Attribution[]> {
  const caseIds = await cache.caseIds();
  if (caseIds.length === 0) return [];
  // One pipeline per case: on a cluster each case is in its own slot, maybe on its own master.
  const answers = await Promise.all(
    caseIds.map((caseId) =>
      redis
        .pipeline()
        .exists(collectKeys.member(caseId, userId))
        .hexists(keys.caseRoles(caseId), String(userId))
        .exec(),
    ),
  );
  const seen: Attribution[] = [];
  caseIds.forEach((caseId, i) => {
    const member = answers[i]?.[0]?.[1];
    const role = answers[i]?.[1]?.[1];
    if (member === 1 || role === 1) seen.push({ caseId, attribution: "seen" });
  });
  if (seen.length > 0) return seen;
  const open: string[] = [];
  for (const caseId of caseIds) {
    if ((await cache.settings(caseId))?.record.status === "open") open.push(caseId);
  }
  return (open.length > 0 ? open : caseIds).map((caseId) => ({
    caseId,
    attribution: "unseen" as const,
  }));
}
