import { ACTION_NAMES, type ActionName, isGuarded, rightsOf } from "../../actions/catalog.ts";
import type { AdminRight } from "../../base/bot-api-rights.ts";
import { PHASE_ACTION_FORMS, type PhaseActionKind } from "./action-forms.ts";
import { actionKind, phaseStepKind } from "./names.ts";
import type { OwnPhaseStepKind, PhaseStep, Scenario, TriggerAction } from "./schema.ts";

/**
 * What a scenario asks of the catalog: the admin rights each of its steps and
 * trigger actions needs, and whether starting it needs a supervisor. Both are
 * answered by the catalog, so a scenario can neither need less than the same
 * commands given by hand nor miss an action nobody declared rights for.
 */

/** The scenario's own steps act on nothing in the group, so they need no admin right. */
const OWN_STEP_RIGHTS: Record<OwnPhaseStepKind, readonly AdminRight[]> = {
  wait: [],
  until: [],
  approve: [],
  notify: [],
  // getChatAdministrators and getChatMemberCount: any member may read them.
  snapshot: [],
};

function isPhaseAction(kind: string): kind is PhaseActionKind {
  return Object.hasOwn(PHASE_ACTION_FORMS, kind);
}

/** The catalog action a phase step runs, if it runs one. */
export function actionOfStep(step: PhaseStep): PhaseActionKind | undefined {
  const kind = phaseStepKind(step);
  return isPhaseAction(kind) ? kind : undefined;
}

/** The catalog action a trigger action (or ladder rung action) runs, if it runs one. */
export function actionOfTrigger(action: TriggerAction): ActionName | undefined {
  const kind = actionKind(action);
  return kind === "notify" || kind === "start" || kind === "ladder" ? undefined : kind;
}

export function stepRights(step: PhaseStep): readonly AdminRight[] {
  const kind = phaseStepKind(step);
  if (!isPhaseAction(kind)) return OWN_STEP_RIGHTS[kind];
  const form = PHASE_ACTION_FORMS[kind] as {
    rights?: (value: unknown) => readonly AdminRight[];
  };
  const value = (step as Record<string, unknown>)[kind];
  return form.rights ? form.rights(value) : rightsOf(kind);
}

export function triggerActionRights(action: TriggerAction): readonly AdminRight[] {
  const name = actionOfTrigger(action);
  return name ? rightsOf(name) : [];
}

/** Every catalog action a scenario can run: its steps, its triggers, and its ladders' rungs. */
export function actionsUsed(scenario: Scenario): Set<ActionName> {
  const used = new Set<ActionName>();
  const fromAction = (a: TriggerAction) => {
    const name = actionOfTrigger(a);
    if (name) used.add(name);
  };
  for (const phase of scenario.phases) {
    for (const step of phase.steps ?? []) {
      const name = actionOfStep(step);
      if (name) used.add(name);
    }
    for (const trigger of phase.triggers ?? []) trigger.do.forEach(fromAction);
  }
  for (const ladder of Object.values(scenario.ladders ?? {}))
    for (const rung of ladder.rungs) rung.forEach(fromAction);
  return used;
}

/**
 * Why starting the scenario needs a supervisor's approval, as giving the same
 * commands by hand could: it uses an action the catalog guards (one that
 * removes, restricts, deletes, locks down or releases), in a step, a trigger
 * or a ladder.
 */
export function scenarioNeedsApproval(scenario: Scenario): string | undefined {
  const used = actionsUsed(scenario);
  const guarded = ACTION_NAMES.filter((name) => used.has(name) && isGuarded(name));
  return guarded.length > 0 ? `scenario ${scenario.id} uses ${guarded.join(", ")}` : undefined;
}
