import { readFileSync } from "node:fs";
import { InputFile } from "grammy";
import { z } from "zod";
import { UsageError } from "../base/usage-error.ts";
import type { RedisWrite } from "../store/cases.ts";
import { chatKeys } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";
import { render } from "./templates.ts";
import { closeTopics, isForum, topicSummary } from "./topics.ts";

/**
 * Seals a seized group: a title and description that say what happened, a new
 * photo, the primary invite link replaced (which revokes the old one), every
 * link the bot created revoked, and pending join requests declined. Each part
 * is its own step, so a failure halfway is reported exactly and a resumed
 * lockdown does not repeat what was done. In a forum, every topic Warden has
 * seen open and the General topic are closed too (General hidden if asked),
 * and what was open is remembered for release (src/actions/topics.ts).
 */

export interface LockdownOptions {
  title?: string;
  description?: string;
  /** A JPEG or PNG file; defaults to the shipped police notice. */
  photoPath?: string;
  /** Skip the photo (e.g. when the chat's photo must stay as evidence). */
  noPhoto?: boolean;
  /** In a forum, hide the General topic as well as closing it. */
  hideGeneral?: boolean;
}

const DEFAULT_PHOTO = new URL("./assets/takeover.png", import.meta.url);

/** Telegram's limits for a chat's title and description, in characters. */
const TITLE_LIMIT = 128;
const DESCRIPTION_LIMIT = 255;

/**
 * The description a lockdown sets unless told otherwise: Dutch and English,
 * or Dutch alone when both do not fit in Telegram's 255 characters (a long
 * authority reference), rather than an English sentence cut off mid-word.
 */
export function defaultDescription(authority: string): string {
  const nl = render("nl", "lockdown-description", { case: authority });
  const both = `${nl}\n\n${render("en", "lockdown-description", { case: authority })}`;
  return both.length <= DESCRIPTION_LIMIT ? both : nl;
}

export async function lockdown(
  env: ActionEnv,
  scope: ActionScope,
  opts: LockdownOptions = {},
): Promise<ActionReport> {
  const { chatId } = scope.chat;
  const caseId = scope.case.id;
  // What is recorded is exactly what Telegram is sent: within its limits (128 and 255 characters).
  const title = (opts.title ?? render("nl", "lockdown-title")).slice(0, TITLE_LIMIT);
  const description = (opts.description ?? defaultDescription(scope.case.authority)).slice(
    0,
    DESCRIPTION_LIMIT,
  );
  const steps: StepReport[] = [];
  const run = async (
    step: string,
    params: Record<string, unknown>,
    perform: () => Promise<unknown>,
    onSuccess?: () => RedisWrite[],
  ) => {
    const result = await runStep(env, scope, {
      op: "lockdown",
      step,
      params,
      perform,
      ...(onSuccess ? { onSuccess } : {}),
    });
    steps.push(result);
    return result;
  };

  await run("set-title", { title }, () => env.api.setChatTitle(chatId, title));
  await run("set-description", { description }, () =>
    env.api.setChatDescription(chatId, description),
  );
  if (!opts.noPhoto) {
    const bytes = readFileSync(opts.photoPath ?? DEFAULT_PHOTO);
    await run("set-photo", { photo: opts.photoPath ?? "default" }, () =>
      env.api.setChatPhoto(chatId, new InputFile(bytes, "photo.png")),
    );
  }
  // exportChatInviteLink makes a new primary link, which revokes the old one; the new link is not logged
  // or shown anywhere, so nobody can use it.
  await run("replace-primary-link", {}, () => env.api.exportChatInviteLink(chatId));
  for (const link of await env.redis.smembers(chatKeys.links(caseId, chatId))) {
    await run(
      `revoke-link ${link}`,
      { invite_link: link },
      () => env.api.revokeChatInviteLink(chatId, link),
      () => [["SREM", chatKeys.links(caseId, chatId), link]],
    );
  }
  for (const userId of await env.redis.smembers(chatKeys.joinRequests(caseId, chatId))) {
    await run(
      `decline-join-request ${userId}`,
      { user_id: Number(userId) },
      () => env.api.declineChatJoinRequest(chatId, Number(userId)),
      () => [["SREM", chatKeys.joinRequests(caseId, chatId), userId]],
    );
  }
  let forum = false;
  try {
    forum = await isForum(env, chatId);
  } catch (err) {
    steps.push({
      step: "read-chat",
      status: "failed",
      repeated: false,
      reason: `could not tell whether ${scope.chat.alias} is a forum, so its topics were left as they are: ${(err as Error).message}; run /lockdown again`,
    });
  }
  if (forum)
    steps.push(
      ...(await closeTopics(env, scope, "lockdown", {
        ...(opts.hideGeneral ? { hideGeneral: true } : {}),
      })),
    );
  const ok = steps.every((s) => s.status === "done");
  if (ok) await env.redis.hset(chatKeys.state(caseId, chatId), "lockedDown", "1");
  const topics = forum ? topicSummary(steps) : "";

  return report(
    "lockdown",
    scope,
    steps,
    ok
      ? `${scope.chat.alias} is locked down: new title, description and photo; invite links revoked; join requests declined${
          forum
            ? `; General${opts.hideGeneral ? " closed and hidden" : " closed"}${topics ? `, topics closed: ${topics}` : ""}`
            : ""
        }`
      : undefined,
  );
}

export const lockdownAction = defineAction({
  name: "lockdown",
  op: "lockdown",
  rights: () => ["can_change_info", "can_invite_users"],
  args: z.strictObject({
    title: z.string().min(1).max(128).optional(),
    description: z.string().max(255).optional(),
    /** Keep the group's photo (e.g. when it must stay as evidence). */
    noPhoto: z.boolean().optional(),
    /** In a forum, hide General as well as closing it. */
    hideGeneral: z.boolean().optional(),
  }),
  approval: { kind: "always", why: "lockdown changes the group for everyone" },
  run: (env, scope, args) => lockdown(env, scope, args),
  command: {
    usage: "[hide-general]",
    describe:
      "new title, description and photo; revoke invite links; decline join requests; close a forum's topics (hide-general: hide General too)",
    parse({ words }) {
      if (words.length === 0) return {};
      if (words.length === 1 && words[0] === "hide-general") return { hideGeneral: true };
      throw new UsageError(
        `usage: /lockdown [hide-general] — "${words.join(" ")}" is not an option; hide-general also hides a forum's General topic`,
      );
    },
  },
});
