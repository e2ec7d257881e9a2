import { z } from "zod";
import type { ActionName, ArgsOf } from "../../actions/catalog.ts";
import { MemberRef } from "../../actions/members-named.ts";
import type { AdminRight } from "../../base/bot-api-rights.ts";
import { parseDurationSeconds } from "../../base/duration.ts";
import { Duration, Id, TemplateRef } from "./fields.ts";

/**
 * How a scenario names the catalog's actions: for each action a scenario may
 * use, the YAML it is written as (a phase step `ban: {users: [...], for: 2h}`,
 * a trigger action `ban: 1d`) and how that becomes the action's arguments when
 * the run gets there. Rights and the approval rule are the catalog's, never
 * restated here; the keys are the catalog's names, so a form for an action
 * the catalog does not have does not typecheck.
 */

/** What a phase step's YAML needs from the run to become arguments. */
export interface PhaseFormContext {
  /** A template in every language of the scenario, for the whole group (HTML, variables escaped). */
  renderForGroup(template: string): string;
  /** Text with the run's variables filled in, unescaped (a title is not HTML). */
  fill(text: string): string;
  /** The message an earlier step of the run posted. */
  posted(stepId: string): Promise<number | undefined>;
  /** Whether the scenario defines this template itself (rather than using Warden's shipped one). */
  ownTemplate(name: string): boolean;
  /** The members this run restricted (as the audit log has it), and has not banned since. */
  restrictedByRun(): Promise<number[]>;
}

export interface PhaseActionForm<N extends ActionName, S extends z.ZodType> {
  schema: S;
  /** What the step does, for the JSON Schema editors show. */
  describe: string;
  args(value: z.output<S>, ctx: PhaseFormContext): Promise<ArgsOf<N>> | ArgsOf<N>;
  /** The rights this use needs, when they depend on the YAML (a warning that pins); else the catalog's. */
  rights?(value: z.output<S>): readonly AdminRight[];
  /** What the step's `scenario.step` entry records of the YAML (the template, the members named). */
  record?(value: z.output<S>): Record<string, unknown>;
}

/** What a trigger action's YAML needs from the firing to become arguments. */
export interface TriggerFormContext {
  chatId: number;
  memberId: number;
  /** The message that fired it, if any. */
  messageId?: number;
  /** Fired by a message to the bot, not in the group. */
  private: boolean;
  /** A template in the member's language (HTML, variables escaped). */
  renderForMember(template: string): { html: string; language: string };
  renderForGroup(template: string): string;
}

export interface TriggerActionForm<N extends ActionName, S extends z.ZodType> {
  schema: S;
  describe: string;
  /** The arguments, or undefined when there is nothing to do (no message to delete in a private chat). */
  args(value: z.output<S>, ctx: TriggerFormContext): ArgsOf<N> | undefined;
}

// Every form is keyed by the catalog action it names, and makes that action's arguments.
// biome-ignore lint/suspicious/noExplicitAny: any YAML schema
type PhaseForms = { [K in ActionName]?: PhaseActionForm<K, any> };
// biome-ignore lint/suspicious/noExplicitAny: any YAML schema
type TriggerForms = { [K in ActionName]?: TriggerActionForm<K, any> };

const PIN_RIGHTS: readonly AdminRight[] = ["can_pin_messages"];

/** Group-wide messages: a template rendered in every language of the scenario, optionally pinned. */
const PostArgs = z.union([
  TemplateRef,
  z.strictObject({
    template: TemplateRef,
    pin: z.boolean().optional().describe("Pin the message once posted."),
    topic: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("In a forum: post (and pin) in this topic too, named by title, besides General."),
    all_topics: z
      .boolean()
      .optional()
      .describe("In a forum: post (and pin) in every topic Warden has seen too, besides General."),
  }),
]);
type PostArgs = z.output<typeof PostArgs>;

export function templateOfPost(value: PostArgs): string {
  return typeof value === "string" ? value : value.template;
}
function pinOfPost(value: PostArgs): boolean {
  return typeof value === "object" && value.pin === true;
}
/** Where in a forum a warning goes besides General (`topic:`, `all_topics:`). */
function topicsOfPost(value: PostArgs): { topic?: string; allTopics?: true } {
  if (typeof value !== "object") return {};
  return {
    ...(value.topic ? { topic: value.topic } : {}),
    ...(value.all_topics ? { allTopics: true as const } : {}),
  };
}

const Members = z.strictObject({
  users: z.array(MemberRef).min(1).max(100),
  for: Duration.optional(),
});

function timedTargets(value: z.output<typeof Members>) {
  return {
    targets: value.users,
    ...(value.for ? { seconds: parseDurationSeconds(value.for) } : {}),
  };
}

function recordMembers(value: z.output<typeof Members>) {
  return { users: value.users, for: value.for ?? "forever" };
}

const Span = z.union([Duration, z.literal("forever")]);
function spanOf(span: string): { seconds?: number } {
  return span === "forever" ? {} : { seconds: parseDurationSeconds(span) };
}

function phaseForm<N extends ActionName, S extends z.ZodType>(
  _action: N,
  form: PhaseActionForm<N, S>,
): PhaseActionForm<N, S> {
  return form;
}

function triggerForm<N extends ActionName, S extends z.ZodType>(
  _action: N,
  form: TriggerActionForm<N, S>,
): TriggerActionForm<N, S> {
  return form;
}

export const PHASE_ACTION_FORMS = {
  warn: phaseForm("warn", {
    schema: PostArgs,
    describe:
      "Post a warning in the seized group, in every language of the scenario (in a forum: in General, and in topic: or all_topics: as asked).",
    args: (v, ctx) => ({
      html: ctx.renderForGroup(templateOfPost(v)),
      pin: pinOfPost(v),
      ...topicsOfPost(v),
    }),
    rights: (v) => (pinOfPost(v) ? PIN_RIGHTS : []),
    record: (v) => ({ template: templateOfPost(v) }),
  }),
  announce: phaseForm("announce", {
    schema: PostArgs,
    describe: "Post an announcement in the seized group (in a forum: as warn).",
    args: (v, ctx) => ({
      html: ctx.renderForGroup(templateOfPost(v)),
      pin: pinOfPost(v),
      ...topicsOfPost(v),
    }),
    rights: (v) => (pinOfPost(v) ? PIN_RIGHTS : []),
    record: (v) => ({ template: templateOfPost(v) }),
  }),
  pin: phaseForm("pin", {
    schema: z.strictObject({
      step: Id.describe("The warn or announce step whose message to pin."),
    }),
    describe: "Pin the message an earlier step posted.",
    async args(v, ctx) {
      const messageId = await ctx.posted(v.step);
      if (messageId === undefined) throw new Error(`step ${v.step} posted no message to pin`);
      return { messageId };
    },
  }),
  freeze: phaseForm("freeze", {
    schema: z.enum(["full", "trade"]),
    describe: "Change the group's permissions: full (nobody posts) or trade (text only).",
    args: (mode) => ({ mode }),
    record: (mode) => ({ mode }),
  }),
  thaw: phaseForm("thaw", {
    schema: z.literal(true),
    describe: "Restore the permissions from before the first freeze.",
    args: () => ({}),
  }),
  lockdown: phaseForm("lockdown", {
    schema: z.union([
      z.literal(true),
      z.strictObject({
        title: z.string().min(1).max(128).optional(),
        description: z.string().max(255).optional(),
        photo: z.boolean().optional().describe("false keeps the group's photo."),
        hide_general: z
          .boolean()
          .optional()
          .describe("In a forum, hide the General topic as well as closing it."),
      }),
    ]),
    describe:
      "New title, description and photo; revoke invite links; decline join requests; in a forum, close every known topic and General (hide_general: true hides it).",
    args(v, ctx) {
      const opts = v === true ? {} : v;
      return {
        ...(opts.title ? { title: ctx.fill(opts.title) } : {}),
        ...(opts.description ? { description: ctx.fill(opts.description) } : {}),
        ...(opts.photo === false ? { noPhoto: true } : {}),
        ...(opts.hide_general ? { hideGeneral: true } : {}),
      };
    },
  }),
  restrict: phaseForm("restrict", {
    schema: Members,
    describe: "Mute named members, for a while or for good.",
    args: timedTargets,
    record: recordMembers,
  }),
  ban: phaseForm("ban", {
    schema: Members,
    describe: "Ban named members.",
    args: timedTargets,
    record: recordMembers,
  }),
  purge: phaseForm("purge", {
    schema: z.union([
      z.strictObject({ last: z.number().int().min(1).max(1000) }),
      z.strictObject({ from: MemberRef }),
    ]),
    describe: "Delete messages, evidence first.",
    args: (v) => ({ selection: "last" in v ? { last: v.last } : { sender: v.from } }),
  }),
  release: phaseForm("release", {
    schema: z.union([
      z.literal(true),
      z.strictObject({
        lift_restrictions: z
          .boolean()
          .optional()
          .describe(
            "Also lift the restrictions this run put on members (restrict: steps and triggers); bans stay.",
          ),
      }),
    ]),
    describe:
      "End the takeover: thaw, tell members (the template release: the scenario's own, else Warden's Dutch and English one) and mark the group released. Restrictions and bans stay unless lift_restrictions: true.",
    async args(v, ctx) {
      const lift = v !== true && v.lift_restrictions === true;
      return {
        ...(ctx.ownTemplate("release") ? { html: ctx.renderForGroup("release") } : {}),
        ...(lift ? { unrestrict: await ctx.restrictedByRun() } : {}),
      };
    },
    record: (v) => (v !== true && v.lift_restrictions ? { lift_restrictions: true } : {}),
  }),
} as const satisfies PhaseForms;

export const TRIGGER_ACTION_FORMS = {
  reply: triggerForm("reply", {
    schema: TemplateRef,
    describe: "Answer the member: a reply to their message, in their language.",
    args(template, ctx) {
      const { html, language } = ctx.renderForMember(template);
      return {
        chatId: ctx.chatId,
        userId: ctx.memberId,
        html,
        template,
        language,
        ...(ctx.messageId !== undefined ? { replyTo: ctx.messageId } : {}),
      };
    },
  }),
  purge: triggerForm("purge", {
    schema: z.literal("message"),
    describe: "Delete the message that fired the trigger, evidence first.",
    args: (_v, ctx) =>
      ctx.messageId === undefined || ctx.private
        ? undefined
        : { selection: { messageIds: [ctx.messageId] } },
  }),
  restrict: triggerForm("restrict", {
    schema: Span,
    describe: "Mute the member for a while, or forever.",
    args: (span, ctx) => ({ targets: [ctx.memberId], ...spanOf(span) }),
  }),
  ban: triggerForm("ban", {
    schema: Span,
    describe: "Ban the member for a while, or forever.",
    args: (span, ctx) => ({ targets: [ctx.memberId], ...spanOf(span) }),
  }),
  warn: triggerForm("warn", {
    schema: TemplateRef,
    describe: "Post a warning to the whole group, in every language.",
    args: (template, ctx) => ({ html: ctx.renderForGroup(template) }),
  }),
} as const satisfies TriggerForms;

export type PhaseActionKind = keyof typeof PHASE_ACTION_FORMS;
export type TriggerActionFormKind = keyof typeof TRIGGER_ACTION_FORMS;
