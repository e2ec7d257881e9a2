import type { Conversation } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import { actionEnv } from "../../actions/context.ts";
import { runStep } from "../../actions/run.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { parseDurationMs } from "../../base/duration.ts";
import { collectKeys } from "../../collect/keys.ts";
import type { RedisWrite } from "../../store/cases.ts";
import { conversationStepId } from "../definition/names.ts";
import { compileSafeRegex } from "../definition/safe-regex.ts";
import type { Expect, Language, Scenario } from "../definition/schema.ts";
import {
  defaultLanguage,
  renderBuiltIn,
  renderTemplate,
  type Vars,
} from "../definition/templates.ts";
import { type ConversationStart, memberName, syntheticOf } from "./events.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import {
  type EngineDeps,
  type RunContext,
  recordForRun,
  runContext,
  runVars,
  scopeOf,
} from "./run-context.ts";
import { readDefinition, readRun } from "./run-state.ts";

/**
 * Scenario conversations, on @grammyjs/conversations (v2). One conversation
 * builder interprets every conversation a scenario defines: it is entered
 * with the conversation's name and the member, and walks its steps (say, ask,
 * branch, record, end). The plugin keeps its state in Redis per chat and
 * member (see the bot's scenario feature), so many members talk at once and a
 * restarted bot goes on where each left off.
 *
 * Everything with an effect runs in `conversation.external`, so a replay does
 * not repeat it, and every message is sent through the action layer under
 * the key `scn:<run>:conv:<name>:<chat>:<member>:<start>:<n>`: even a crash
 * between sending and saving the conversation's state sends nothing twice.
 * A question's timeout is a timer in Redis; when it comes due the engine's
 * tick hands the conversation a synthetic update, so a member who never
 * answers is let go late rather than never.
 */

export const CONVERSATION_ID = "warden-scenario";
/** Raise when the builder changes how it walks steps: stored conversations of another version are dropped. */
export const CONVERSATION_VERSION = 1;
/** Steps one conversation may take at most (loops must ask, but a member could loop for ever). */
const MAX_STEPS = 200;
/** Answers longer than a Telegram message are cut. */
const MAX_ANSWER = 4096;

interface Begun {
  hash: string;
  vars: Vars;
}

type Answer = { value: string; messageId?: number } | "timeout" | "gone";

/**
 * Records an entry of one conversation at most once: a crash between the
 * entry and the saving of the conversation's state replays the step, and the
 * marker turns the second recording into nothing.
 */
async function once(
  rc: RunContext,
  start: ConversationStart,
  what: string,
  step: string,
  entry: Parameters<typeof recordForRun>[2],
  opts: { writes?: RedisWrite[] } = {},
): Promise<void> {
  const marker = scenarioKeys.done(
    start.caseId,
    start.runId,
    `conv:${start.chatId}:${start.userId}:${start.nonce}:${what}`,
  );
  try {
    await recordForRun(rc, step, entry, {
      preconditions: [{ key: marker, exists: false, message: "already recorded" }],
      writes: [["SET", marker, "1", "PX", 30 * 86_400_000], ...(opts.writes ?? [])],
    });
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
}

/** I/O of conversations; each call is wrapped in `conversation.external` by the builder. */
export function conversationHost(deps: EngineDeps) {
  const stepName = (start: ConversationStart, sid: string) => `conv:${start.name}/${sid}`;
  const keyOf = (start: ConversationStart, seq: number) =>
    `scn:${start.runId}:conv:${start.name}:${start.chatId}:${start.userId}:${start.nonce}:${seq}`;

  async function context(start: ConversationStart): Promise<RunContext | undefined> {
    const run = await readRun(deps.redis, start.caseId, start.runId);
    return run ? runContext(deps, run) : undefined;
  }

  return {
    /** Records the start; undefined when the run has ended meanwhile. */
    async begin(start: ConversationStart): Promise<Begun | undefined> {
      const rc = await context(start);
      if (!rc || rc.run.status === "finished" || rc.run.status === "aborted") return undefined;
      if (rc.record.status !== "open") return undefined; // a closed case talks to nobody
      const marker = scenarioKeys.done(
        start.caseId,
        start.runId,
        `conv:${start.chatId}:${start.userId}:${start.nonce}`,
      );
      try {
        await recordForRun(
          rc,
          stepName(start, "start"),
          {
            op: "conversation.start",
            phase: "info",
            target: { chat_id: start.chatId, user_ids: [start.userId] },
            params: {
              run: start.runId,
              conversation: start.name,
              language: start.language,
              origin: start.origin,
            },
          },
          {
            preconditions: [{ key: marker, exists: false, message: "already started" }],
            writes: [["SET", marker, "1", "PX", 30 * 86_400_000]],
          },
        );
      } catch (err) {
        if (!(err instanceof RecordRefusedError)) throw err;
      }
      return {
        hash: rc.run.hash,
        vars: runVars(rc, {
          member: memberName(start.member),
          username: start.member.username ? `@${start.member.username}` : memberName(start.member),
        }),
      };
    },

    async active(start: ConversationStart): Promise<boolean> {
      const status = await deps.redis.hget(scenarioKeys.run(start.caseId, start.runId), "status");
      return status !== "finished" && status !== "aborted";
    },

    /** Sends one message of the conversation; false when it could not be delivered (blocked, gone). */
    async send(
      start: ConversationStart,
      seq: number,
      sid: string,
      html: string,
      replyMarkup?: InlineKeyboardMarkup,
    ): Promise<boolean> {
      const rc = await context(start);
      if (!rc) return false;
      const report = await runStep(
        actionEnv(deps),
        scopeOf(rc, stepName(start, sid), keyOf(start, seq)),
        {
          op: "conversation.say",
          step: "send",
          target: { chat_id: start.chatId, user_ids: [start.userId] },
          params: { conversation: start.name, step: sid, language: start.language },
          perform: () =>
            deps.api.sendMessage(start.chatId, html, {
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              ...(replyMarkup ? { reply_markup: replyMarkup } : {}),
              ...(start.replyTo !== undefined && seq === 0
                ? {
                    reply_parameters: {
                      message_id: start.replyTo,
                      allow_sending_without_reply: true,
                    },
                  }
                : {}),
            }),
          detail: (m) => ({ message_id: m.message_id }),
        },
      );
      if (report.status === "unknown")
        // Cut off by a crash before Telegram answered: most likely sent; going on beats abandoning the member.
        deps.logger.warn(
          { case: start.caseId, chat: start.chatId, step: sid },
          "a conversation message may not have been sent",
        );
      return report.status !== "failed";
    },

    /** Starts a question's timer; returns its deadline. */
    async armTimeout(start: ConversationStart, askId: string, ms: number): Promise<number> {
      const deadline = deps.now() + ms;
      await deps.redis.zadd(
        scenarioKeys.timers(start.caseId),
        "NX",
        deadline,
        `convo:${start.chatId}:${start.userId}:${askId}`,
      );
      const stored = await deps.redis.zscore(
        scenarioKeys.timers(start.caseId),
        `convo:${start.chatId}:${start.userId}:${askId}`,
      );
      return Number(stored ?? deadline);
    },

    async disarm(start: ConversationStart, askId: string): Promise<void> {
      await deps.redis.zrem(
        scenarioKeys.timers(start.caseId),
        `convo:${start.chatId}:${start.userId}:${askId}`,
      );
    },

    async timedOut(start: ConversationStart, sid: string): Promise<void> {
      const rc = await context(start);
      if (!rc) return;
      await once(rc, start, `timeout:${sid}`, stepName(start, sid), {
        op: "conversation.timeout",
        phase: "info",
        target: { chat_id: start.chatId, user_ids: [start.userId] },
        params: { run: start.runId, conversation: start.name, step: sid },
      });
    },

    /** The answer into evidence: an audit `collect` entry and the evidence copy, one atomic step. */
    async record(
      start: ConversationStart,
      sid: string,
      name: string,
      value: string,
      messageId?: number,
    ): Promise<void> {
      const rc = await context(start);
      if (!rc) return;
      const field = `${start.chatId}:${messageId ?? `answer-${start.nonce}-${name}`}`;
      await once(
        rc,
        start,
        `answer:${name}:${messageId ?? sid}`,
        stepName(start, sid),
        {
          op: "collect",
          phase: "info",
          target: { chat_id: start.chatId, user_ids: [start.userId] },
          params: {
            purpose: "scenario conversation answer",
            run: start.runId,
            conversation: start.name,
            name,
            // Where the answer is kept: the log says what was recorded and where, not the words.
            evidence: field,
            ...(messageId !== undefined ? { message_id: messageId } : {}),
          },
        },
        {
          writes: [
            [
              "HSETNX",
              collectKeys.evidence(start.caseId),
              field,
              JSON.stringify({
                captured_at: deps.now(),
                reason: "scenario-answer",
                run: start.runId,
                conversation: start.name,
                name,
                answer: value,
                from: start.member,
                ...(messageId !== undefined ? { message_id: messageId } : {}),
              }),
            ],
          ],
        },
      );
    },

    async end(start: ConversationStart, how: string): Promise<void> {
      const rc = await context(start);
      if (rc)
        await once(rc, start, "end", stepName(start, "end"), {
          op: "conversation.end",
          phase: "info",
          target: { chat_id: start.chatId, user_ids: [start.userId] },
          params: { run: start.runId, conversation: start.name, how },
        });
      await deps.redis.hdel(globalScenarioKeys.conversations(), `${start.chatId}:${start.userId}`);
    },
  };
}

function choiceLabel(scenario: Scenario, value: string, language: Language): string {
  const own = scenario.templates?.[`choice-${value}`];
  return own?.[language] ?? own?.[defaultLanguage(scenario)] ?? value;
}

/** The answer a text gives to an expectation, or undefined when it does not fit. */
export function accept(
  expect: Expect,
  text: string,
  scenario: Scenario,
  language: Language,
): string | undefined {
  const answer = text.trim().slice(0, MAX_ANSWER);
  if (answer.length === 0) return undefined;
  if (expect === "anything") return answer;
  if ("choices" in expect) {
    const wanted = answer.toLowerCase();
    return expect.choices.find(
      (c) =>
        c.toLowerCase() === wanted ||
        choiceLabel(scenario, c, language).toLowerCase() === wanted ||
        scenario.languages.some((l) => choiceLabel(scenario, c, l).toLowerCase() === wanted),
    );
  }
  return compileSafeRegex(expect.regex).test(answer) ? answer : undefined;
}

/** The builder the bot registers with `createConversation(…, CONVERSATION_ID)`. */
export function scenarioConversation(deps: EngineDeps) {
  const host = conversationHost(deps);
  return async function scenario(
    conversation: Conversation<Context, Context>,
    first: Context,
    start: ConversationStart,
  ) {
    const begun = await conversation.external(() => host.begin(start));
    if (!begun) return;
    const definition = await readDefinition(deps.redis, start.caseId, begun.hash);
    const convo = definition.conversations?.[start.name];
    if (!convo) return;
    const language = start.language as Language;
    const steps = convo.steps;
    const indexOf = (id: string | undefined, fallback: number) =>
      id === undefined
        ? fallback
        : id === "end"
          ? -1
          : steps.findIndex((s, i) => conversationStepId(s, i) === id);
    const answers: Record<string, string> = {};
    // Updates handed over again after a restart must not count twice (as the answer to the next question).
    const seen = new Set<number>([first.update.update_id]);
    let last: { value: string; messageId?: number } | undefined;
    let seq = 0;
    let how = "completed";
    let i = 0;
    const say = (sid: string, html: string, markup?: InlineKeyboardMarkup) => {
      const n = seq++;
      return conversation.external(() => host.send(start, n, sid, html, markup));
    };

    for (let executed = 0; i >= 0 && i < steps.length; executed++) {
      if (executed >= MAX_STEPS) {
        how = "step limit reached";
        break;
      }
      if (!(await conversation.external(() => host.active(start)))) {
        how = "run ended";
        break;
      }
      const step = steps[i] as (typeof steps)[number];
      const sid = conversationStepId(step, i);
      const following = i + 1 < steps.length ? i + 1 : -1;
      const next = indexOf(step.next, following);
      const vars = { ...begun.vars, ...(last ? { answer: last.value } : {}) };

      if ("say" in step) {
        if (!(await say(sid, renderTemplate(definition, step.say, language, vars)))) {
          how = "member unreachable";
          break;
        }
        i = next;
      } else if ("ask" in step) {
        const { ask } = step;
        const askSeq = seq;
        const askId = `${sid}.${askSeq}`;
        const choices =
          typeof ask.expect === "object" && "choices" in ask.expect
            ? ask.expect.choices
            : undefined;
        const markup: InlineKeyboardMarkup | undefined = choices
          ? {
              inline_keyboard: choices.map((c, k) => [
                { text: choiceLabel(definition, c, language), callback_data: `sc:${askSeq}:${k}` },
              ]),
            }
          : undefined;
        if (!(await say(sid, renderTemplate(definition, ask.template, language, vars), markup))) {
          how = "member unreachable";
          break;
        }
        await conversation.external(() =>
          host.armTimeout(start, askId, parseDurationMs(ask.timeout ?? "1h")),
        );
        let result: Answer;
        for (;;) {
          const ctx = await conversation.wait();
          if (ctx.update.update_id >= 0) {
            if (seen.has(ctx.update.update_id)) await conversation.skip();
            seen.add(ctx.update.update_id);
          }
          const synthetic = syntheticOf(ctx.update);
          if (synthetic) {
            if (synthetic.kind === "timeout" && synthetic.ask === askId) {
              result = "timeout";
              break;
            }
            await conversation.skip({ next: true });
          }
          const blocked = ctx.update.my_chat_member?.new_chat_member.status === "kicked";
          if (blocked) {
            result = "gone";
            break;
          }
          if (ctx.from?.id !== start.userId) await conversation.skip({ next: true });
          const data = ctx.callbackQuery?.data;
          if (data !== undefined) {
            const m = /^sc:(\d+):(\d+)$/.exec(data);
            const choice = m && Number(m[1]) === askSeq ? choices?.[Number(m[2])] : undefined;
            await ctx.answerCallbackQuery(choice ? {} : { text: "—" }).catch(() => undefined);
            if (choice) {
              result = { value: choice };
              break;
            }
            continue;
          }
          const message = ctx.message;
          // In the group, only replies to the bot's questions are answers; the member's other messages pass on.
          if (
            !message ||
            (convo.where === "reply" && message.reply_to_message?.from?.id !== ctx.me.id)
          )
            await conversation.skip({ next: true });
          if (!message) continue;
          if (message.text === undefined) {
            await say(sid, renderBuiltIn(definition, "text-please", language, vars));
            continue;
          }
          if (message.text.startsWith("/")) {
            await say(sid, renderBuiltIn(definition, "not-a-command", language, vars));
            continue;
          }
          const value = accept(ask.expect, message.text, definition, language);
          if (value === undefined) {
            await say(
              sid,
              renderBuiltIn(
                definition,
                choices ? "not-a-choice" : "not-understood",
                language,
                vars,
              ),
              markup,
            );
            continue;
          }
          result = { value, messageId: message.message_id };
          break;
        }
        await conversation.external(() => host.disarm(start, askId));
        if (result === "gone") {
          how = "member blocked the bot";
          break;
        }
        if (result === "timeout") {
          await conversation.external(() => host.timedOut(start, sid));
          i = indexOf(ask.on_timeout, -1);
          how = "timed out";
          continue;
        }
        last = result;
        const answer = result;
        if (ask.record) {
          answers[ask.record] = answer.value;
          const name = ask.record;
          await conversation.external(() =>
            host.record(start, sid, name, answer.value, answer.messageId),
          );
        }
        how = "completed";
        i = next;
      } else if ("branch" in step) {
        const value = answers[step.branch.on];
        const target = value !== undefined ? step.branch.cases[value] : undefined;
        i = indexOf(target ?? step.branch.default, next);
      } else if ("record" in step) {
        const answer = last;
        if (answer) {
          answers[step.record] = answer.value;
          const name = step.record;
          await conversation.external(() =>
            host.record(start, sid, name, answer.value, answer.messageId),
          );
        }
        i = next;
      } else {
        i = -1;
      }
    }
    await conversation.external(() => host.end(start, how));
  };
}

/** What a conversation's storage key and index entry are, for the bot's storage adapter. */
export const conversationIndex = {
  field: (chatId: number, userId: number) => `${chatId}:${userId}`,
  key: globalScenarioKeys.conversations,
};
