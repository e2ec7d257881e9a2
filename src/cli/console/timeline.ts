import type { AuditEntry } from "../../audit/entry.ts";
import { phaseStepId, phaseStepKind, triggerId } from "../../scenario/definition/names.ts";
import type { Scenario } from "../../scenario/definition/schema.ts";
import type { RunState } from "../../scenario/runtime/run-state.ts";

/**
 * The scenario as a timeline for its author: phases, their steps and
 * triggers as written, where the run is now, and what fired and why — each
 * read from the audit log (the detector's rules and score for a trade
 * offer), so the timeline shows what an auditor will read.
 */
export interface Timeline {
  title: string;
  status?: RunState["status"];
  phases: {
    id: string;
    title?: string;
    current: boolean;
    steps: { id: string; kind: string; state: "done" | "now" | "later"; seq?: number }[];
    triggers: { id: string; on: string; fired: number }[];
  }[];
  /** What happened, newest last: steps done, phases, waits, triggers fired, approvals. */
  events: { seq: number; at: string; text: string; kind: string }[];
}

function eventText(e: AuditEntry): string | undefined {
  const p = e.params ?? {};
  const step = e.scenario?.step ?? "";
  switch (e.op) {
    case "scenario.start":
      return `${e.actor.name ?? "someone"} started run ${String(p.run)}`;
    case "scenario.step":
      return `step ${step} done`;
    case "scenario.phase":
      return `phase ${String(p.from)} → ${String(p.to)}`;
    case "scenario.wait":
      return `waits ${String(p.wait ?? "")} until ${String(p.until ?? "")
        .slice(0, 16)
        .replace("T", " ")}`;
    case "scenario.trigger": {
      const rules = Array.isArray(p.rules) ? ` — rules ${p.rules.join(", ")}` : "";
      const score = p.score !== undefined ? `, score ${String(p.score)}` : "";
      return `trigger ${step} fired on ${String(p.on)} by ${e.target?.user_ids?.join(", ") ?? "?"}${rules}${score}`;
    }
    case "approval.request":
      return `asks a supervisor: ${String(p.why ?? "")}`;
    case "approval.grant":
      return `${e.actor.name ?? "a supervisor"} approved`;
    case "approval.reject":
      return `${e.actor.name ?? "a supervisor"} rejected`;
    case "scenario.fail":
      return `step ${step} failed: ${String(p.reason ?? "")}`;
    case "scenario.finish":
      return "the run finished";
    case "scenario.abort":
      return "the run was aborted";
    default:
      return undefined;
  }
}

export function timelineOf(
  scenario: Scenario | undefined,
  audit: readonly AuditEntry[],
  run: RunState | undefined,
): Timeline {
  const done = new Map<string, number>();
  const fired = new Map<string, number>();
  const events: Timeline["events"] = [];
  for (const e of audit) {
    if (e.op === "scenario.step" && e.scenario) done.set(e.scenario.step, e.seq);
    if (e.op === "scenario.trigger" && e.scenario)
      fired.set(e.scenario.step, (fired.get(e.scenario.step) ?? 0) + 1);
    const text = eventText(e);
    if (text) events.push({ seq: e.seq, at: e.ts, text, kind: e.op });
  }
  const phases = (scenario?.phases ?? []).map((phase, pi) => ({
    id: phase.id,
    ...(phase.title ? { title: phase.title } : {}),
    current: run?.status === "running" && run.phase === pi,
    steps: (phase.steps ?? []).map((s, si) => {
      const id = phaseStepId(s, si);
      const seq = done.get(`${phase.id}/${id}`);
      const now = run?.status === "running" && run.phase === pi && run.step === si;
      return {
        id,
        kind: phaseStepKind(s),
        state: seq !== undefined ? ("done" as const) : now ? ("now" as const) : ("later" as const),
        ...(seq !== undefined ? { seq } : {}),
      };
    }),
    triggers: (phase.triggers ?? []).map((t, ti) => {
      const id = triggerId(t, ti);
      return { id, on: t.on, fired: fired.get(`${phase.id}/${id}`) ?? 0 };
    }),
  }));
  return {
    title: scenario?.title ?? run?.title ?? "",
    ...(run ? { status: run.status } : {}),
    phases,
    events,
  };
}
