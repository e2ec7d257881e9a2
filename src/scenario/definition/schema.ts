import { z } from "zod";
import type { AdminRight } from "../../base/bot-api-rights.ts";
import {
  PHASE_ACTION_FORMS,
  type PhaseActionKind,
  TRIGGER_ACTION_FORMS,
  type TriggerActionFormKind,
} from "./action-forms.ts";
import { Duration, Id, slug, TemplateRef, Text } from "./fields.ts";
import { LANGUAGE_CODES } from "./languages.ts";

/**
 * The scenario format: one zod schema that validates YAML and TypeScript
 * scenarios alike and from which `scenarios/schema.json` is generated, so an
 * editor completes and checks what the linter will. Every object is strict:
 * a misspelt field is an error, never silently ignored.
 *
 * A step is an object with exactly one action key (`warn:`, `wait:` …) and
 * optionally an `id`; the action key says what it does.
 */

/** A scenario's languages: ISO 639-1 codes (`languages.ts`). */
export const LANGUAGES = LANGUAGE_CODES;
export type Language = string;

const LanguageCode = z
  .enum(LANGUAGE_CODES)
  .describe("An ISO 639-1 language code: nl, en, ar, tr, pl, de, fr …");

/** Admin rights a scenario may declare (those Telegram grants to bots in groups). */
export const ADMIN_RIGHTS = [
  "can_change_info",
  "can_delete_messages",
  "can_restrict_members",
  "can_invite_users",
  "can_pin_messages",
  "can_manage_topics",
  "can_promote_members",
  "can_manage_video_chats",
] as const satisfies readonly AdminRight[];

/** Variables a template or notification may use. */
export const TEMPLATE_VARIABLES = {
  member: "the member's name",
  username: "the member's @username, or their name",
  member_id: "the member's Telegram id (operators' messages only)",
  case: "the case reference (the authority's order number)",
  group: "the seized group's title",
  alias: "the seized group's alias, such as fw1",
  answer: "the member's last answer in a conversation",
  count: "how many times the member has triggered this (offence number)",
  text: "the text of the message that fired the trigger (operators' messages only)",
  scenario: "the scenario's title",
} as const;

const stepBase = {
  id: Id.optional().describe("Names the step in the audit log; defaults to its position and kind."),
  note: z.string().max(500).optional().describe("A remark for people reading the scenario."),
};

const Limit = z
  .strictObject({
    count: z.number().int().min(1).max(10_000),
    per: Duration,
  })
  .describe("At most `count` times per `per`, e.g. { count: 1, per: 1d }.");

/** A step object: the base fields and one key, the step's kind. */
type StepObject<K extends string, S extends z.ZodType> = z.ZodObject<
  typeof stepBase & { [P in K]: S },
  z.core.$strict
>;

function stepObject<K extends string, S extends z.ZodType>(
  kind: K,
  schema: S,
  describe: string,
): StepObject<K, S> {
  return z.strictObject({ ...stepBase, [kind]: schema }).describe(describe) as StepObject<K, S>;
}

/** A step schema per catalog action a phase may use (`src/scenario/definition/action-forms.ts`). */
const actionStepSchemas = Object.fromEntries(
  Object.entries(PHASE_ACTION_FORMS).map(([kind, form]) => [
    kind,
    stepObject(kind, form.schema, form.describe),
  ]),
) as unknown as {
  [K in PhaseActionKind]: StepObject<K, (typeof PHASE_ACTION_FORMS)[K]["schema"]>;
};

/** Steps that are the scenario's own rather than actions on the group. */
const ownStepSchemas = {
  wait: stepObject("wait", Duration, "Wait this long."),
  until: stepObject(
    "until",
    z
      .string()
      .describe(
        "Wait until an instant (2026-12-31T23:00:00+01:00) or the next HH:MM in the scenario's time zone.",
      ),
    "Wait until a time.",
  ),
  approve: stepObject(
    "approve",
    z.union([
      Text,
      z.strictObject({
        reason: Text,
        timeout: Duration.optional(),
        on_timeout: z.enum(["abort", "continue"]).optional(),
      }),
    ]),
    "A supervisor must approve in the control room before the scenario goes on.",
  ),
  notify: stepObject("notify", Text, "A line to the control room; may use {variables}."),
  snapshot: stepObject(
    "snapshot",
    z.literal(true),
    "Record the group's admins and member count in the audit log.",
  ),
};

const phaseStepSchemas = { ...actionStepSchemas, ...ownStepSchemas };
export type PhaseStepKind = keyof typeof phaseStepSchemas;
export const PHASE_STEP_KINDS = Object.keys(phaseStepSchemas) as PhaseStepKind[];
export type OwnPhaseStepKind = keyof typeof ownStepSchemas;

/** A trigger action object: exactly one key, its kind. */
type ActionObject<K extends string, S extends z.ZodType> = z.ZodObject<
  { [P in K]: S },
  z.core.$strict
>;

function actionObject<K extends string, S extends z.ZodType>(
  kind: K,
  schema: S,
  describe: string,
): ActionObject<K, S> {
  return z.strictObject({ [kind]: schema }).describe(describe) as ActionObject<K, S>;
}

const catalogTriggerActions = Object.fromEntries(
  Object.entries(TRIGGER_ACTION_FORMS).map(([kind, form]) => [
    kind,
    actionObject(kind, form.schema, form.describe),
  ]),
) as unknown as {
  [K in TriggerActionFormKind]: ActionObject<K, (typeof TRIGGER_ACTION_FORMS)[K]["schema"]>;
};

const ownTriggerActions = {
  notify: actionObject(
    "notify",
    Text,
    "Tell the operators in the control room; may use {variables}.",
  ),
  start: actionObject(
    "start",
    Id.describe("A conversation under `conversations:`."),
    "Start a conversation with the member.",
  ),
  ladder: actionObject(
    "ladder",
    Id.describe("A ladder under `ladders:`."),
    "Climb the member one rung of an escalation ladder.",
  ),
};

const triggerActionSchemas = { ...catalogTriggerActions, ...ownTriggerActions };
export type TriggerActionKind = keyof typeof triggerActionSchemas;
export const TRIGGER_ACTION_KINDS = Object.keys(triggerActionSchemas) as TriggerActionKind[];

/** Every value of a record of schemas, as one union schema with the union's type. */
function unionOf<T extends Record<string, z.ZodType>>(schemas: T): z.ZodType<z.output<T[keyof T]>> {
  return z.union(Object.values(schemas) as [z.ZodType, z.ZodType, ...z.ZodType[]]) as z.ZodType<
    z.output<T[keyof T]>
  >;
}

const TriggerAction = unionOf(triggerActionSchemas);

export const TRIGGER_EVENTS = [
  "trade_offer",
  "message",
  "join",
  "join_request",
  "private_message",
  "leave",
  "ghost_ad",
] as const;
export type TriggerEvent = (typeof TRIGGER_EVENTS)[number];

const Trigger = z
  .strictObject({
    id: Id.optional().describe("Names the trigger in the audit log and for its limits."),
    on: z
      .enum(TRIGGER_EVENTS)
      .describe(
        "trade_offer (the detector), message (keywords or regex), join, join_request, private_message (to the bot), leave, ghost_ad (an offer buyers answered and the seller never did).",
      ),
    keywords: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(200)
      .optional()
      .describe("on: message: any of these words or phrases (case-insensitive)."),
    regex: z
      .string()
      .min(1)
      .optional()
      .describe(
        "on: message: a regular expression in RE2 syntax (case-insensitive; no lookaround or back-references).",
      ),
    min_score: z
      .number()
      .min(0)
      .max(20)
      .optional()
      .describe("on: trade_offer: the detector score needed (default: the lexicon's threshold)."),
    after: Duration.optional().describe("on: ghost_ad: how long the seller has to answer a buyer."),
    topics: z
      .array(z.string().min(1).max(128))
      .min(1)
      .max(50)
      .optional()
      .describe(
        "on: message or trade_offer in a forum: only in these topics, named by title (General is General); a topic Warden has not seen yet by that name does not match.",
      ),
    limit: Limit.optional().describe("Per member: fire at most this often."),
    chat_limit: Limit.optional().describe("For the whole group: fire at most this often."),
    do: z.array(TriggerAction).min(1).max(20),
  })
  .describe("Something members do that the scenario answers while its phase is running.");

const Phase = z.strictObject({
  id: Id,
  title: z.string().max(200).optional(),
  steps: z.array(unionOf(phaseStepSchemas)).max(200).optional(),
  triggers: z.array(Trigger).max(50).optional(),
});

const Expect = z.union([
  z.literal("anything").describe("Any text answer."),
  z
    .strictObject({ choices: z.array(z.string().min(1).max(64)).min(2).max(8) })
    .describe("One of these (shown as buttons; typed answers match case-insensitively)."),
  z
    .strictObject({ regex: z.string().min(1) })
    .describe("Text matching this regular expression (RE2 syntax, case-insensitive)."),
]);

const convoBase = {
  id: Id.optional(),
  next: z
    .union([Id, z.literal("end")])
    .optional()
    .describe("The step to go to afterwards; defaults to the next one."),
};

export const CONVERSATION_STEP_KINDS = ["say", "ask", "branch", "record", "end"] as const;
export type ConversationStepKind = (typeof CONVERSATION_STEP_KINDS)[number];

const conversationStepSchemas = {
  say: z.strictObject({ ...convoBase, say: TemplateRef }).describe("Send a template."),
  ask: z
    .strictObject({
      ...convoBase,
      ask: z.strictObject({
        template: TemplateRef,
        expect: Expect,
        timeout: Duration.optional().describe("How long to wait for an answer (required)."),
        on_timeout: z
          .union([Id, z.literal("end")])
          .optional()
          .describe("Where to go when no answer comes in time; defaults to the end."),
        record: Id.optional().describe("Keep the answer as evidence under this name."),
      }),
    })
    .describe("Ask a question and wait for the answer."),
  branch: z
    .strictObject({
      ...convoBase,
      branch: z.strictObject({
        on: Id.describe("A name an earlier ask or record step recorded."),
        cases: z.record(z.string().min(1).max(64), Id),
        default: z.union([Id, z.literal("end")]).optional(),
      }),
    })
    .describe("Go to a step depending on an answer."),
  record: z
    .strictObject({ ...convoBase, record: Id })
    .describe("Keep the last answer as evidence under this name."),
  end: z.strictObject({ ...convoBase, end: z.literal(true) }).describe("End the conversation."),
} as const satisfies Record<ConversationStepKind, z.ZodType>;

const Conversation = z.strictObject({
  where: z
    .enum(["private", "reply"])
    .optional()
    .describe(
      "private: in the member's private chat with the bot; reply: as replies in the group.",
    ),
  steps: z
    .array(
      z.union([
        conversationStepSchemas.say,
        conversationStepSchemas.ask,
        conversationStepSchemas.branch,
        conversationStepSchemas.record,
        conversationStepSchemas.end,
      ]),
    )
    .min(1)
    .max(100),
});

const Template = z
  .strictObject(Object.fromEntries(LANGUAGE_CODES.map((code) => [code, Text.optional()])))
  .describe(
    "The text per language (HTML, as written: right-to-left text is kept as it is); {member}, {case}, {group} … are filled in.",
  ) as z.ZodType<Partial<Record<string, string>>>;

const Ladder = z.strictObject({
  reset_after: Duration.optional().describe("Forget a member's offences after this long."),
  rungs: z
    .array(z.array(TriggerAction).min(1).max(10))
    .min(1)
    .max(10)
    .describe("What each offence gets: the first rung for the first, the last for any after."),
});

export const scenarioSchema = z
  .strictObject({
    id: slug("the scenario id").describe("How operators name it: /scenario start <id> <alias>."),
    title: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    version: z.number().int().min(1).describe("Raise it whenever the scenario changes."),
    languages: z
      .array(LanguageCode)
      .min(1)
      .describe(
        "Languages every template must have (ISO 639-1 codes); members get theirs, the group all of them. Warden's own texts are Dutch and English: a scenario in another language writes its own (the linter says which).",
      ),
    default_language: LanguageCode.optional().describe(
      "For members whose language is none of these; defaults to the first.",
    ),
    timezone: z.string().optional().describe("For `until: HH:MM`; defaults to Europe/Amsterdam."),
    world: z
      .union([slug("a world's name"), z.string().regex(/\.ya?ml$/, "a world file ends in .yaml")])
      .optional()
      .describe(
        "The world `warden rehearse` plays this scenario in: the name of a file in scenarios/worlds/ without .yaml (drug-market), or the path of a world file relative to this one.",
      ),
    rights: z
      .array(z.enum(ADMIN_RIGHTS))
      .describe("Admin rights the bot needs; the scenario will not start without them."),
    templates: z.record(TemplateRef, Template).optional(),
    conversations: z.record(Id, Conversation).optional(),
    ladders: z.record(Id, Ladder).optional(),
    phases: z.array(Phase).min(1).max(50),
  })
  .describe("A Warden takeover scenario: phases of steps and triggers, run by the bot.");

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type Phase = z.output<typeof Phase>;
export type PhaseStep = NonNullable<Phase["steps"]>[number];
export type Trigger = z.output<typeof Trigger>;
export type TriggerAction = z.output<typeof TriggerAction>;
export type Conversation = z.output<typeof Conversation>;
export type ConversationStep = Conversation["steps"][number];
export type Ladder = z.output<typeof Ladder>;
export type Expect = z.output<typeof Expect>;

/** The schemas of each step kind, for the linter to explain a step that matched none. */
export const STEP_SCHEMAS = {
  phase: phaseStepSchemas as Record<string, z.ZodType>,
  trigger: triggerActionSchemas as Record<string, z.ZodType>,
  conversation: conversationStepSchemas as Record<string, z.ZodType>,
};

/** The kind of a step or action: its one action key. */
export function kindOf<K extends string>(step: object, kinds: readonly K[]): K {
  for (const kind of kinds) if (kind in step) return kind;
  throw new Error(`step has none of the keys ${kinds.join(", ")}`);
}
