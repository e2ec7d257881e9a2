import {
  CONVERSATION_STEP_KINDS,
  type Conversation,
  type ConversationStep,
  type ConversationStepKind,
  kindOf,
  PHASE_STEP_KINDS,
  type PhaseStep,
  type PhaseStepKind,
  type Scenario,
  TRIGGER_ACTION_KINDS,
  type Trigger,
  type TriggerAction,
  type TriggerActionKind,
} from "./schema.ts";

/**
 * Names and flow of a validated scenario, shared by the linter and the
 * engine so both agree on what a step is called and where it leads. A step
 * without an `id` is named by its position and kind (`2-freeze`): stable as
 * long as the scenario does not change, and a running scenario keeps the
 * version it started with.
 */

export function phaseStepKind(step: PhaseStep): PhaseStepKind {
  return kindOf(step, PHASE_STEP_KINDS);
}

export function actionKind(action: TriggerAction): TriggerActionKind {
  return kindOf(action, TRIGGER_ACTION_KINDS);
}

export function conversationStepKind(step: ConversationStep): ConversationStepKind {
  return kindOf(step, CONVERSATION_STEP_KINDS);
}

export function phaseStepId(step: PhaseStep, index: number): string {
  return step.id ?? `${index + 1}-${phaseStepKind(step)}`;
}

export function triggerId(trigger: Trigger, index: number): string {
  return trigger.id ?? `${index + 1}-${trigger.on.replace(/_/g, "-")}`;
}

export function conversationStepId(step: ConversationStep, index: number): string {
  return step.id ?? `${index + 1}-${conversationStepKind(step)}`;
}

/** Where a conversation step can lead: step indices, or -1 for the end. */
export function conversationEdges(conversation: Conversation, index: number): number[] {
  const steps = conversation.steps;
  const step = steps[index];
  if (!step) return [];
  const byId = (id: string | undefined): number =>
    id === undefined || id === "end"
      ? -1
      : steps.findIndex((s, i) => conversationStepId(s, i) === id);
  const following = index + 1 < steps.length ? index + 1 : -1;
  const next = step.next !== undefined ? byId(step.next) : following;
  const kind = conversationStepKind(step);
  if (kind === "end") return [-1];
  if ("branch" in step) {
    const targets = Object.values(step.branch.cases).map(byId);
    targets.push(step.branch.default !== undefined ? byId(step.branch.default) : next);
    return [...new Set(targets)];
  }
  if ("ask" in step) return [...new Set([next, byId(step.ask.on_timeout)])];
  return [next];
}

/** Every template name a scenario uses, with where, for checks and rendering. */
export function scenarioTemplateRefs(scenario: Scenario): string[] {
  const names = new Set<string>();
  const fromAction = (a: TriggerAction) => {
    if ("reply" in a) names.add(a.reply);
    if ("warn" in a) names.add(a.warn);
  };
  for (const phase of scenario.phases) {
    for (const step of phase.steps ?? []) {
      if ("warn" in step) names.add(typeof step.warn === "string" ? step.warn : step.warn.template);
      if ("announce" in step)
        names.add(typeof step.announce === "string" ? step.announce : step.announce.template);
    }
    for (const trigger of phase.triggers ?? []) trigger.do.forEach(fromAction);
  }
  for (const ladder of Object.values(scenario.ladders ?? {}))
    for (const rung of ladder.rungs) rung.forEach(fromAction);
  for (const convo of Object.values(scenario.conversations ?? {}))
    for (const step of convo.steps) {
      if ("say" in step) names.add(step.say);
      if ("ask" in step) names.add(step.ask.template);
    }
  return [...names];
}
