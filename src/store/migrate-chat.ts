import type { Precondition, RedisWrite, SeizedChat } from "./cases.ts";
import { keys, scenarioKeys } from "./keys.ts";
import { buildKey, fillPattern } from "./layout/builders.ts";
import { holesOfPattern } from "./layout/match.ts";
import { type DeclaredShape, SHAPES } from "./layout/registry.ts";
import { compilePattern } from "./layout/shape.ts";
import type { Redis } from "./redis.ts";

/**
 * A seized basic group upgraded to a supergroup, in Redis: what the registry
 * marks as following the group moves to the new chat id, in the atomic step
 * of the `chat.migrate` audit entry (this module only reads and describes the
 * writes, like src/store/cases.ts).
 *
 * - keys that name the chat and `moves` (its state, invite links, join
 *   requests) are renamed, each guarded by a precondition that it still
 *   exists (or still does not), so none is left behind: a step refused with
 *   `CHANGED_WHILE_MIGRATING` is planned again;
 * - hash fields that name the chat and `moves` (the run active there, the
 *   trade guard's gate) are copied, as read, to the new id and removed from
 *   the old;
 * - shapes that hold the chat id (`rewritten`) are rewritten by `REWRITES`;
 * - message evidence `stays` under the id it was recorded under.
 */

/** The refusal when the chat had been migrated already (a second service message, a redelivery). */
export const ALREADY_MIGRATED = "already migrated";
/** The refusal when a key that moves changed between planning and the step: plan again. */
export const CHANGED_WHILE_MIGRATING = "the chat's keys changed while it was migrating";

export interface ChatMigrationPlan {
  preconditions: Precondition[];
  writes: RedisWrite[];
}

interface MigrationContext {
  redis: Redis;
  caseId: string;
  chat: SeizedChat;
  oldId: number;
  newId: number;
}

type Rewrite = (ctx: MigrationContext) => Promise<ChatMigrationPlan> | ChatMigrationPlan;

/** How each shape marked `rewritten` is rewritten, by shape id. */
const REWRITES: Record<string, Rewrite> = {
  // The global index is in another slot of a cluster: it follows the case's own record (the chat
  // under its old id, which this step moves) after the step, in `moveChatIndex`
  // (src/store/global-index.ts), and the repair at start if a crash came between.
  "store.chatIndex": ({ caseId, oldId }) => ({
    preconditions: [
      {
        key: keys.caseChats(caseId),
        field: String(oldId),
        exists: true,
        message: ALREADY_MIGRATED,
      },
    ],
    writes: [],
  }),
  "store.caseChats": ({ caseId, chat, oldId, newId }) => {
    const moved: SeizedChat & { migratedFrom: number } = {
      ...chat,
      chatId: newId,
      migratedFrom: oldId,
    };
    return {
      preconditions: [],
      writes: [
        ["HDEL", keys.caseChats(caseId), String(oldId)],
        ["HSET", keys.caseChats(caseId), String(newId), JSON.stringify(moved)],
      ],
    };
  },
  "store.caseAliases": ({ caseId, chat, newId }) => ({
    preconditions: [],
    writes: [["HSET", keys.caseAliases(caseId), chat.alias, String(newId)]],
  }),
  // The run active on the chat ends by removing its chat's field of `scenario.active`, which moves.
  "scenario.run": async ({ redis, caseId, oldId, newId }) => {
    const runId = await redis.hget(scenarioKeys.active(caseId), String(oldId));
    return {
      preconditions: [],
      writes: runId ? [["HSET", scenarioKeys.run(caseId, runId), "chatId", newId]] : [],
    };
  },
};

const holesOf = (pattern: string | undefined) =>
  pattern === undefined ? [] : compilePattern(pattern).holes;

/** Shapes whose keys name the chat and move: the chat is their only hole. */
const MOVING_KEYS = SHAPES.filter(
  (s) => s.migration === "moves" && holesOf(s.pattern).includes("chat"),
);
/** Shapes whose hash fields name the chat and move. */
const MOVING_FIELDS = SHAPES.filter(
  (s) => s.migration === "moves" && !holesOf(s.pattern).includes("chat"),
);

/** Reads what the chat has in Redis and describes its move from `chat.chatId` to `newId`. */
export async function planChatMigration(
  redis: Redis,
  caseId: string,
  chat: SeizedChat,
  newId: number,
): Promise<ChatMigrationPlan> {
  const ctx: MigrationContext = { redis, caseId, chat, oldId: chat.chatId, newId };
  const plan: ChatMigrationPlan = { preconditions: [], writes: [] };
  const add = (part: ChatMigrationPlan) => {
    plan.preconditions.push(...part.preconditions);
    plan.writes.push(...part.writes);
  };
  // The index first: its precondition says "already migrated" before any other is checked.
  for (const shape of SHAPES.filter((s) => s.migration === "rewritten"))
    add(await (REWRITES[shape.id] as Rewrite)(ctx));
  for (const shape of MOVING_KEYS) add(await moveKey(ctx, shape));
  for (const shape of MOVING_FIELDS) add(await moveFields(ctx, shape));
  return plan;
}

async function moveKey(ctx: MigrationContext, shape: DeclaredShape): Promise<ChatMigrationPlan> {
  const from = buildKey(shape, ctx.caseId, { chat: ctx.oldId });
  const to = buildKey(shape, ctx.caseId, { chat: ctx.newId });
  // Written meanwhile (a join request): the step is refused and planned again.
  if ((await ctx.redis.exists(from)) === 0)
    return {
      preconditions: [{ key: from, exists: false, message: CHANGED_WHILE_MIGRATING }],
      writes: [],
    };
  return {
    preconditions: [{ key: from, exists: true, message: CHANGED_WHILE_MIGRATING }],
    writes: [["RENAME", from, to]],
  };
}

async function moveFields(ctx: MigrationContext, shape: DeclaredShape): Promise<ChatMigrationPlan> {
  const fields = shape.fields as string;
  const key = buildKey(shape, ctx.caseId);
  const plan: ChatMigrationPlan = { preconditions: [], writes: [] };
  for (const [field, value] of Object.entries(await ctx.redis.hgetall(key))) {
    const holes = holesOfPattern(fields, field);
    if (holes?.chat !== ctx.oldId) continue;
    plan.preconditions.push({ key, field, exists: true, message: CHANGED_WHILE_MIGRATING });
    plan.writes.push(
      ["HSET", key, fillPattern(fields, { ...holes, chat: ctx.newId }), value],
      ["HDEL", key, field],
    );
  }
  return plan;
}

/**
 * What is wrong with the registry's migration marks, one line each: every
 * shape that names a chat must say what an upgrade does to it, and what it
 * says must be something this module does.
 */
export function migrationProblems(shapes: readonly DeclaredShape[] = SHAPES): string[] {
  const problems: string[] = [];
  for (const s of shapes) {
    const inKey = holesOf(s.pattern).includes("chat");
    const inFields = holesOf(s.fields).includes("chat");
    if ((inKey || inFields) && !s.migration)
      problems.push(`${s.id} names a chat but does not say what a supergroup upgrade does to it`);
    if (s.migration === "rewritten" && !REWRITES[s.id])
      problems.push(
        `${s.id} is marked rewritten, but src/store/migrate-chat.ts has no rewrite for it`,
      );
    if (s.migration === "moves" && inKey && holesOf(s.pattern).length > 1)
      problems.push(`${s.id} moves, but its key has holes besides <chat>: say how each moves`);
    if (
      s.migration === "moves" &&
      !inKey &&
      (!inFields || s.type !== "hash" || holesOf(s.pattern).length > 0)
    )
      problems.push(
        `${s.id} moves, but names the chat neither in its key nor in the fields of one hash`,
      );
  }
  for (const id of Object.keys(REWRITES))
    if (shapes.find((s) => s.id === id)?.migration !== "rewritten")
      problems.push(
        `src/store/migrate-chat.ts rewrites ${id}, which the registry does not mark rewritten`,
      );
  return problems;
}
