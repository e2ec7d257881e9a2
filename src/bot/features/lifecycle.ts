import { Composer, type Context } from "grammy";
import type { ChatMember, ChatMemberUpdated } from "grammy/types";
import { chatKeys } from "../../actions/chat-state.ts";
import { escapeHtml } from "../../base/html.ts";
import { caseOfChat, getCase, listChats, type SeizedChat } from "../../store/cases.ts";
import { moveChatIndex } from "../../store/global-index.ts";
import {
  ALREADY_MIGRATED,
  CHANGED_WHILE_MIGRATING,
  planChatMigration,
} from "../../store/migrate-chat.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * What happens to the bot and the chat itself: promoted, rights reduced,
 * demoted, kicked (the control room is told at once), pending join requests
 * (remembered for lockdown), and a basic group upgraded to a supergroup (the
 * chat is re-keyed to its new id with everything that describes the group:
 * case, alias, saved permissions, invite links, join requests, its scenario run).
 */

function rightsOf(member: ChatMember): string[] {
  if (member.status !== "administrator") return [];
  return Object.entries(member)
    .filter(([k, v]) => k.startsWith("can_") && v === true)
    .map(([k]) => k)
    .sort();
}

export function describeBotChange(u: ChatMemberUpdated): { kind: string; text: string } {
  const before = u.old_chat_member;
  const after = u.new_chat_member;
  if (after.status === "kicked")
    return {
      kind: "kicked",
      text: "the bot was removed (banned) from the chat: the takeover there has ended",
    };
  if (after.status === "left") return { kind: "left", text: "the bot is no longer in the chat" };
  if (after.status === "administrator" && before.status !== "administrator") {
    return {
      kind: "promoted",
      text: `the bot is now an admin with: ${rightsOf(after).join(", ") || "no rights"}`,
    };
  }
  if (before.status === "administrator" && after.status !== "administrator") {
    return { kind: "demoted", text: "the bot was demoted: it can no longer act in the chat" };
  }
  if (before.status === "administrator" && after.status === "administrator") {
    const had = rightsOf(before);
    const has = rightsOf(after);
    const lost = had.filter((r) => !has.includes(r));
    const gained = has.filter((r) => !had.includes(r));
    return {
      kind: lost.length ? "rights-reduced" : "rights-changed",
      text: `the bot's rights changed${lost.length ? `; lost: ${lost.join(", ")}` : ""}${gained.length ? `; gained: ${gained.join(", ")}` : ""}`,
    };
  }
  return { kind: after.status, text: `the bot's status is now ${after.status}` };
}

async function seizedChat(
  deps: FeatureDeps,
  chatId: number,
): Promise<{ caseId: string; chat: SeizedChat } | undefined> {
  const caseId = await caseOfChat(deps.redis, chatId);
  if (!caseId) return undefined;
  const chat = (await listChats(deps.redis, caseId)).find((c) => c.chatId === chatId);
  return chat ? { caseId, chat } : undefined;
}

async function alert(deps: FeatureDeps, caseId: string, html: string): Promise<void> {
  const record = await getCase(deps.redis, caseId);
  if (record?.controlRoom === undefined) return;
  await deps.api
    .sendMessage(record.controlRoom, html, { parse_mode: "HTML" })
    .catch((err: Error) => {
      deps.logger.error({ case: caseId, err: err.message }, "could not alert the control room");
    });
}

/** Moves a seized chat to the id of the supergroup it became; safe to run twice. */
export async function migrateChat(
  deps: FeatureDeps,
  oldId: number,
  newId: number,
  updateId: number,
): Promise<void> {
  const found = await seizedChat(deps, oldId);
  if (!found) return;
  const { caseId, chat } = found;
  // What follows the group (state, links, join requests, its run…) is in the registry; a step
  // refused because those keys changed meanwhile is planned again. Both service messages (in the
  // old chat and the new) start a migration, often at once: the one that finds it done is silent.
  for (let attempt = 1; ; attempt++) {
    const plan = await planChatMigration(deps.redis, caseId, chat, newId);
    const outcome = await deps.audit
      .record(
        {
          case: caseId,
          actor: { kind: "system", name: "lifecycle" },
          op: "chat.migrate",
          phase: "info",
          target: { chat_id: newId, alias: chat.alias },
          params: { from_chat_id: oldId, to_chat_id: newId },
          update_ids: [updateId],
        },
        plan,
      )
      .then(
        () => "migrated" as const,
        (err: Error) => {
          if (err.message === ALREADY_MIGRATED) return "already" as const;
          if (err.message === CHANGED_WHILE_MIGRATING && attempt < 5) return "again" as const;
          throw err;
        },
      );
    // The global index follows the case's record; again when a redelivered message finds it done,
    // in case the process that did it stopped before this.
    await moveChatIndex(deps.redis, caseId, oldId, newId);
    if (outcome === "already") return;
    if (outcome === "migrated") break;
  }
  await alert(
    deps,
    caseId,
    escapeHtml(
      `${chat.alias} was upgraded to a supergroup: Warden now follows it as ${newId} (was ${oldId})`,
    ),
  );
}

/** The updates below: the bot's and members' status, join requests, and a group's migration. */
function aboutTheChat(ctx: Context): boolean {
  const u = ctx.update;
  return (
    u.my_chat_member !== undefined ||
    u.chat_member !== undefined ||
    u.chat_join_request !== undefined ||
    u.message?.migrate_to_chat_id !== undefined ||
    u.message?.migrate_from_chat_id !== undefined
  );
}

export function lifecycleFeature(deps: FeatureDeps): Feature {
  const composer = new Composer<Context>();

  composer.on("my_chat_member", async (ctx, next) => {
    const found = await seizedChat(deps, ctx.myChatMember.chat.id);
    if (found) {
      const change = describeBotChange(ctx.myChatMember);
      await deps.audit.record({
        case: found.caseId,
        actor: { kind: "system", name: "lifecycle" },
        op: "bot.status",
        phase: "info",
        target: { chat_id: found.chat.chatId, alias: found.chat.alias },
        params: {
          change: change.kind,
          old_status: ctx.myChatMember.old_chat_member.status,
          new_status: ctx.myChatMember.new_chat_member.status,
          by: ctx.myChatMember.from.id,
        },
        update_ids: [ctx.update.update_id],
      });
      await alert(
        deps,
        found.caseId,
        `⚠️ <b>${escapeHtml(found.chat.alias)}</b>: ${escapeHtml(change.text)}${change.kind === "promoted" ? escapeHtml(`; run /check ${found.chat.alias}`) : ""}`,
      );
    }
    await next();
  });

  composer.on("chat_join_request", async (ctx, next) => {
    const found = await seizedChat(deps, ctx.chatJoinRequest.chat.id);
    if (found)
      await deps.redis.sadd(
        chatKeys.joinRequests(found.caseId, found.chat.chatId),
        String(ctx.chatJoinRequest.from.id),
      );
    await next();
  });

  composer.on("chat_member", async (ctx, next) => {
    const link = ctx.chatMember.invite_link;
    if (link && link.creator.id === ctx.me.id) {
      const found = await seizedChat(deps, ctx.chatMember.chat.id);
      if (found)
        await deps.redis.sadd(chatKeys.links(found.caseId, found.chat.chatId), link.invite_link);
    }
    const joined = ctx.chatMember.new_chat_member;
    if (joined.status === "member" || joined.status === "kicked") {
      const found = await seizedChat(deps, ctx.chatMember.chat.id);
      if (found)
        await deps.redis.srem(
          chatKeys.joinRequests(found.caseId, found.chat.chatId),
          String(joined.user.id),
        );
    }
    await next();
  });

  composer.on("message:migrate_to_chat_id", async (ctx, next) => {
    await migrateChat(deps, ctx.chat.id, ctx.message.migrate_to_chat_id, ctx.update.update_id);
    await next();
  });
  composer.on("message:migrate_from_chat_id", async (ctx, next) => {
    await migrateChat(deps, ctx.message.migrate_from_chat_id, ctx.chat.id, ctx.update.update_id);
    await next();
  });
  return { wants: aboutTheChat, composer };
}
