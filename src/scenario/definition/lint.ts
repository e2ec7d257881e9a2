import { isDuration } from "../../base/duration.ts";
import { templateOfPost } from "./action-forms.ts";
import { stepRights, triggerActionRights } from "./action-use.ts";
import { isShippedLanguage, languageName } from "./languages.ts";
import {
  actionKind,
  conversationEdges,
  conversationStepId,
  conversationStepKind,
  phaseStepId,
  phaseStepKind,
  scenarioTemplateRefs,
  triggerId,
} from "./names.ts";
import { closest, formatPath, type Problem } from "./problems.ts";
import { regexProblem } from "./safe-regex.ts";
import { type Scenario, scenarioSchema, TEMPLATE_VARIABLES, type TriggerAction } from "./schema.ts";
import { checkStructure } from "./schema-problems.ts";
import type { ScenarioSource } from "./source.ts";
import {
  BUILT_IN_TEXTS,
  hasScenarioTemplate,
  isShippedTemplate,
  VARIABLE_PATTERN,
} from "./templates.ts";
import { isTimeZone, isUntil, UNTIL_HINT } from "./time.ts";
import { worldCandidates, worldFileOf, worldNames } from "./world-ref.ts";

/**
 * Everything the schema cannot say: references that must exist (templates,
 * conversations, ladders, steps), every template in every language, known
 * variables only, rights declared for every action used, conversations whose
 * every step can be reached, that do not loop without asking, and whose
 * questions time out, and regular expressions that cannot hang the bot.
 */

type Path = readonly PropertyKey[];

interface Reporter {
  error(path: Path, message: string, hint: string, key?: boolean): void;
  warning(path: Path, message: string, hint: string, key?: boolean): void;
  /** What the schema refused, so that nothing is reported again as a consequence of it. */
  broken: BrokenParts;
}

const VARIABLES = Object.keys(TEMPLATE_VARIABLES);

/**
 * The parts of a scenario the schema refused, as they were written. A part
 * that failed to parse is reported once, for what is wrong with it; what it
 * would have referred to (a conversation it starts, a template it posts) or
 * defined (a template, a step's id) is read from what was written, so its
 * error does not also produce warnings and errors about the rest of the file.
 */
export interface BrokenParts {
  /** Paths (in the file) of every part that was set aside. */
  paths: Path[];
  /** What was written there. */
  values: unknown[];
}

const NOTHING_BROKEN: BrokenParts = { paths: [], values: [] };

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.every((segment, i) => path[i] === segment);
}

/** Whether any part under `prefix` (or `prefix` itself, or a part holding it) was set aside. */
function brokenUnder(broken: BrokenParts, prefix: Path): boolean {
  return broken.paths.some((p) => startsWith(p, prefix) || startsWith(prefix, p));
}

/** Every string written under a key in the broken parts: `start` → conversations it starts. */
function brokenRefs(broken: BrokenParts, keys: readonly string[]): Set<string> {
  const found = new Set<string>();
  const visit = (v: unknown, depth: number) => {
    if (depth > 12 || v === null || typeof v !== "object") return;
    for (const [k, inner] of Object.entries(v)) {
      if (keys.includes(k) && typeof inner === "string") found.add(inner);
      if (k === "choices" && Array.isArray(inner) && keys.includes("template"))
        for (const c of inner) if (typeof c === "string") found.add(`choice-${c}`);
      visit(inner, depth + 1);
    }
  };
  for (const v of broken.values) visit(Array.isArray(v) ? v : { _: v }, 0);
  return found;
}

/** The `id`s written in the parts set aside under `prefix`: steps others may name. */
function brokenIds(broken: BrokenParts, prefix: Path): Set<string> {
  const inside: BrokenParts = { paths: [], values: [] };
  broken.paths.forEach((p, i) => {
    if (startsWith(p, prefix)) {
      inside.paths.push(p);
      inside.values.push(broken.values[i]);
    }
  });
  return brokenRefs(inside, ["id"]);
}

/** The names of a map's entries that were set aside as a whole or in part (`templates.<name>`). */
function brokenNames(broken: BrokenParts, map: string): Set<string> {
  return new Set(
    broken.paths.filter((p) => p[0] === map && typeof p[1] === "string").map((p) => p[1] as string),
  );
}

/** Lints a source: structure first, then meaning; returns every problem found. */
export function lintSource(source: ScenarioSource): { problems: Problem[]; scenario?: Scenario } {
  if (source.problems.length > 0 || source.raw === undefined) return { problems: source.problems };
  const notScenario = worldFileProblem(source);
  if (notScenario) return { problems: [notScenario] };
  const problems = checkStructure(source);
  const parsed = scenarioSchema.safeParse(source.raw);
  const salvaged = parsed.success
    ? { scenario: parsed.data, translate: (path: Path) => path, broken: NOTHING_BROKEN }
    : salvage(source.raw);
  if (!salvaged) return { problems };
  const { scenario, translate, broken } = salvaged;
  const seen = new Set(problems.map((p) => `${p.line}:${p.column}:${p.message}`));
  const report = (severity: Problem["severity"]) =>
    ((given, message, hint, key = false) => {
      const path = translate(given);
      const at = source.locate(path, { key });
      const id = `${at.line}:${at.column}:${message}`;
      if (seen.has(id)) return;
      seen.add(id);
      problems.push({ file: source.file, ...at, severity, message, hint, path: formatPath(path) });
    }) as Reporter["error"];
  checkMeaning(scenario, { error: report("error"), warning: report("warning"), broken });
  if (scenario.world !== undefined && source.file)
    checkWorld(scenario.world, source.file, { error: report("error") });
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return parsed.success ? { problems, scenario: parsed.data } : { problems };
}

/** The world a scenario names must exist, where `warden rehearse` will look for it. */
function checkWorld(world: string, file: string, r: Pick<Reporter, "error">): void {
  if (worldFileOf(file, world)) return;
  const names = worldNames(file);
  const guess = closest(world, names);
  r.error(
    ["world"],
    `no world "${world}": looked for ${worldCandidates(file, world).join(" and ")}`,
    guess
      ? `did you mean "${guess}"?`
      : names.length
        ? `name one of: ${names.join(", ")}`
        : "write a world file in scenarios/worlds/ (see scenarios/worlds/README.md)",
  );
}

/** A world file handed to the scenario linter: one problem saying so, rather than one per field. */
function worldFileProblem(source: ScenarioSource): Problem | undefined {
  const raw = source.raw;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const keys = Object.keys(raw);
  if (keys.includes("phases") || !["users", "chats", "timeline"].some((k) => keys.includes(k)))
    return undefined;
  return {
    file: source.file,
    line: 1,
    column: 1,
    severity: "error",
    message: "this is a world (users, chats, timeline), not a scenario",
    hint: `check it with: warden world lint ${source.file}`,
  };
}

/** Top-level fields that can stand in for a broken value without adding to any check. */
const TOP_STAND_INS: Record<string, unknown> = {
  id: "invalid",
  title: "invalid",
  version: 1,
  rights: [],
  languages: ["en"],
};

/** Top-level fields that may simply be left out when broken. */
const TOP_OPTIONAL = new Set([
  "description",
  "default_language",
  "timezone",
  "world",
  "templates",
  "conversations",
  "ladders",
]);

/**
 * Drops the parts the schema refused (a bad step, an unknown field) so the
 * rest can still be checked for meaning: one run reports every problem. A bad
 * step, trigger or action is replaced by a silent stand-in, keeping positions
 * and default step names; other bad list items are removed and the paths of
 * what follows are mapped back to where they are in the file. What was set
 * aside is returned as it was written (`BrokenParts`).
 */
function salvage(
  raw: unknown,
): { scenario: Scenario; translate(path: Path): Path; broken: BrokenParts } | undefined {
  let value: unknown;
  try {
    value = structuredClone(raw);
  } catch {
    return undefined;
  }
  const origins = new WeakMap<unknown[], number[]>();
  const index = (v: unknown) => {
    if (Array.isArray(v)) {
      origins.set(
        v,
        v.map((_, i) => i),
      );
      v.forEach(index);
    } else if (v && typeof v === "object") Object.values(v).forEach(index);
  };
  index(value);
  /** A path in the value as it is now, as a path in the file. */
  const original = (path: Path): Path => {
    let v = value;
    return path.map((segment) => {
      const here = v;
      v = (v as Record<PropertyKey, unknown> | undefined)?.[segment];
      if (Array.isArray(here) && typeof segment === "number")
        return origins.get(here)?.[segment] ?? segment;
      return segment;
    });
  };
  const broken: BrokenParts = { paths: [], values: [] };
  const setAside = (path: Path) => {
    broken.paths.push(original(path));
    broken.values.push(structuredClone(walk(value, path)));
  };
  for (let round = 0; round < 20; round++) {
    const result = scenarioSchema.safeParse(value);
    if (result.success) {
      return { scenario: result.data, translate: original, broken };
    }
    const removals: Array<{ parent: unknown; key: PropertyKey; path: Path }> = [];
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        const target = walk(value, issue.path);
        for (const key of issue.keys)
          removals.push({ parent: target, key, path: [...issue.path, key] });
        continue;
      }
      const cut = issue.path.findLastIndex((s) => typeof s === "number");
      if (cut < 0) {
        if (issue.path.length === 0) return undefined;
        const top = issue.path[0] as string;
        if (issue.path.length === 1 && !(top in TOP_STAND_INS) && !TOP_OPTIONAL.has(top))
          return undefined;
        const key = issue.path.length === 1 ? top : (issue.path[1] as PropertyKey);
        const parent = issue.path.length === 1 ? value : walk(value, issue.path.slice(0, 1));
        removals.push({ parent, key, path: issue.path.slice(0, Math.min(2, issue.path.length)) });
        continue;
      }
      removals.push({
        parent: walk(value, issue.path.slice(0, cut)),
        key: issue.path[cut] as number,
        path: issue.path.slice(0, cut + 1),
      });
    }
    const byParent = new Map<unknown, Array<{ key: PropertyKey; path: Path }>>();
    for (const r of removals) byParent.set(r.parent, [...(byParent.get(r.parent) ?? []), r]);
    for (const [parent, items] of byParent) {
      if (Array.isArray(parent)) {
        const done = new Set<number>();
        for (const item of [...items].sort((a, b) => (b.key as number) - (a.key as number))) {
          const i = item.key as number;
          if (done.has(i)) continue;
          done.add(i);
          setAside(item.path);
          const stand = standIn(item.path, parent[i], i);
          if (stand && JSON.stringify(stand) !== JSON.stringify(parent[i])) parent[i] = stand;
          else {
            parent.splice(i, 1);
            origins.get(parent)?.splice(i, 1);
          }
        }
      } else if (parent && typeof parent === "object") {
        for (const item of items) {
          const record = parent as Record<PropertyKey, unknown>;
          if (!(item.key in record)) continue;
          setAside(item.path);
          const stand = parent === value ? TOP_STAND_INS[item.key as string] : undefined;
          if (stand !== undefined && JSON.stringify(record[item.key]) !== JSON.stringify(stand))
            record[item.key] = structuredClone(stand);
          else delete record[item.key];
        }
      }
    }
  }
  return undefined;
}

/** A valid element that adds nothing to any check, standing in for a broken step, trigger or action. */
function standIn(path: Path, original: unknown, i: number): object | undefined {
  const p = path.map(String);
  const n = p.length;
  const id =
    original &&
    typeof original === "object" &&
    typeof (original as { id?: unknown }).id === "string"
      ? (original as { id: string }).id
      : undefined;
  const safeId = id && /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(id) ? { id } : {};
  const kind =
    original && typeof original === "object"
      ? Object.keys(original).find((k) => !["id", "note", "next"].includes(k))
      : undefined;
  const defaultId = { id: `${i + 1}-${kind && /^[a-z_]+$/.test(kind) ? kind : "step"}` };
  if (n === 4 && p[0] === "phases" && p[2] === "steps")
    return { ...defaultId, ...safeId, snapshot: true };
  if (n === 4 && p[0] === "conversations" && p[2] === "steps")
    return { ...defaultId, ...safeId, record: "invalid" };
  if (n === 4 && p[0] === "phases" && p[2] === "triggers")
    return { ...safeId, on: "join", do: [{ notify: "invalid" }] };
  if ((n === 6 && p[4] === "do") || (n === 5 && p[0] === "ladders")) return { notify: "invalid" };
  return undefined;
}

function walk(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const s of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[s];
  return v;
}

function checkMeaning(s: Scenario, r: Reporter): void {
  if (s.default_language && !s.languages.includes(s.default_language))
    r.error(
      ["default_language"],
      `default language ${s.default_language} is not one of the scenario's languages`,
      `add it to languages: or choose one of ${s.languages.join(", ")}`,
    );
  if (s.timezone !== undefined && !isTimeZone(s.timezone))
    r.error(
      ["timezone"],
      `unknown time zone "${s.timezone}"`,
      "use an IANA name such as Europe/Amsterdam",
    );

  checkTemplates(s, r);
  checkLanguages(s, r);
  checkVariables(s, r);
  checkGroupPosts(s, r);
  checkRights(s, r);
  checkPhases(s, r);
  for (const [name, ladder] of Object.entries(s.ladders ?? {})) {
    ladder.rungs.forEach((rung, i) => {
      rung.forEach((action, j) => {
        checkAction(s, r, action, ["ladders", name, "rungs", i, j], "ladder");
      });
    });
  }
  for (const name of Object.keys(s.conversations ?? {})) checkConversation(s, r, name);
  checkUnused(s, r);
}

function checkTemplates(s: Scenario, r: Reporter): void {
  // Languages the schema refused are reported there; which texts they would need is not known.
  if (brokenUnder(r.broken, ["languages"])) return;
  for (const [name, template] of Object.entries(s.templates ?? {})) {
    for (const language of s.languages) {
      if (template[language] === undefined)
        r.error(
          ["templates", name],
          `template "${name}" has no ${languageName(language)} text`,
          `add ${language}: "…" — every template needs every language in languages:`,
        );
    }
    for (const language of Object.keys(template))
      if (!s.languages.includes(language))
        r.warning(
          ["templates", name, language],
          `template "${name}" has a ${languageName(language)} text, but ${language} is not one of the scenario's languages, so nobody gets it`,
          `add ${language} to languages:, or remove the text`,
          true,
        );
  }
}

/**
 * Warden's own member-facing texts are Dutch and English. A scenario that
 * speaks another language must write everything it posts itself: the
 * shipped warnings it names, the release message, the lockdown's title and
 * description, and what its questions say to an answer they cannot use.
 */
function checkLanguages(s: Scenario, r: Reporter): void {
  if (brokenUnder(r.broken, ["languages"])) return;
  const others = s.languages.filter((l) => !isShippedLanguage(l));
  if (others.length === 0) return;
  const speaks = others.map(languageName).join(", ");
  const every = s.languages.join(", ");
  const shipped = (name: string, path: Path, how = `template "${name}" is Warden's own`) => {
    if (!isShippedTemplate(name) || s.templates?.[name] !== undefined) return;
    r.error(
      path,
      `${how}, written in Dutch and English only, and this scenario speaks ${speaks}`,
      `define your own template "${name}" under templates:, with a text in each of: ${every}`,
    );
  };
  const action = (a: TriggerAction, path: Path) => {
    if ("reply" in a) shipped(a.reply, [...path, "reply"]);
    if ("warn" in a) shipped(a.warn, [...path, "warn"]);
  };
  s.phases.forEach((phase, p) => {
    (phase.steps ?? []).forEach((step, i) => {
      const path = ["phases", p, "steps", i];
      if ("warn" in step) shipped(templateOfPost(step.warn), [...path, "warn"]);
      if ("announce" in step) shipped(templateOfPost(step.announce), [...path, "announce"]);
      if ("release" in step)
        shipped("release", [...path, "release"], `release: posts Warden's own template "release"`);
      if (
        "lockdown" in step &&
        (step.lockdown === true || !step.lockdown.title || !step.lockdown.description)
      )
        r.error(
          [...path, "lockdown"],
          `lockdown: without its own title and description sets Warden's, written in Dutch and English only, and this scenario speaks ${speaks}`,
          'write lockdown: { title: "…", description: "…" } in the scenario\'s languages',
        );
    });
    (phase.triggers ?? []).forEach((trigger, t) => {
      trigger.do.forEach((a, j) => {
        action(a, ["phases", p, "triggers", t, "do", j]);
      });
    });
  });
  for (const [name, ladder] of Object.entries(s.ladders ?? {}))
    ladder.rungs.forEach((rung, i) => {
      rung.forEach((a, j) => {
        action(a, ["ladders", name, "rungs", i, j]);
      });
    });
  const needed = new Set<string>();
  for (const [name, convo] of Object.entries(s.conversations ?? {}))
    convo.steps.forEach((step, i) => {
      const path = ["conversations", name, "steps", i];
      if ("say" in step) shipped(step.say, [...path, "say"]);
      if (!("ask" in step)) return;
      shipped(step.ask.template, [...path, "ask", "template"]);
      const choices = typeof step.ask.expect === "object" && "choices" in step.ask.expect;
      for (const text of [
        "text-please",
        "not-a-command",
        choices ? "not-a-choice" : "not-understood",
      ]) {
        if (needed.has(text) || s.templates?.[text] !== undefined) continue;
        needed.add(text);
        r.error(
          [...path, "ask"],
          `this question may answer "${BUILT_IN_TEXTS[text]?.en}" (Warden's ${text}), written in Dutch and English only, and this scenario speaks ${speaks}`,
          `define a template "${text}" under templates:, with a text in each of: ${every}`,
          true,
        );
      }
    });
}

function templateRef(s: Scenario, r: Reporter, name: string, path: Path): void {
  if (hasScenarioTemplate(s, name) || brokenNames(r.broken, "templates").has(name)) return;
  const known = [...Object.keys(s.templates ?? {}), "takeover", "trade", "freeze", "release"];
  const guess = closest(name, known);
  r.error(
    path,
    `unknown template "${name}"`,
    guess ? `did you mean "${guess}"?` : "define it under templates: with a text per language",
  );
}

function checkVariables(s: Scenario, r: Reporter): void {
  const check = (text: string, path: Path) => {
    for (const [, name] of text.matchAll(VARIABLE_PATTERN)) {
      if (VARIABLES.includes(name as string)) continue;
      const guess = closest(name as string, VARIABLES);
      r.error(
        path,
        `unknown variable {${name}}`,
        guess
          ? `did you mean {${guess}}?`
          : `use one of: ${VARIABLES.map((v) => `{${v}}`).join(", ")}`,
      );
    }
  };
  for (const [name, template] of Object.entries(s.templates ?? {}))
    for (const [language, text] of Object.entries(template))
      if (text !== undefined) check(text, ["templates", name, language]);
  s.phases.forEach((phase, p) => {
    (phase.steps ?? []).forEach((step, i) => {
      if ("notify" in step) check(step.notify, ["phases", p, "steps", i, "notify"]);
    });
    (phase.triggers ?? []).forEach((trigger, t) => {
      trigger.do.forEach((action, a) => {
        if ("notify" in action)
          check(action.notify, ["phases", p, "triggers", t, "do", a, "notify"]);
      });
    });
  });
  for (const [name, ladder] of Object.entries(s.ladders ?? {}))
    ladder.rungs.forEach((rung, i) => {
      rung.forEach((action, j) => {
        if ("notify" in action) check(action.notify, ["ladders", name, "rungs", i, j, "notify"]);
      });
    });
}

/** Variables that only have a value when a member set something off (not in group-wide posts). */
const MEMBER_VARIABLES = ["member", "username", "member_id", "answer", "count", "text"];

function checkGroupPosts(s: Scenario, r: Reporter): void {
  const posted = new Set<string>();
  const phaseNotify: Array<[string, Path]> = [];
  s.phases.forEach((phase, p) => {
    (phase.steps ?? []).forEach((step, i) => {
      if ("warn" in step)
        posted.add(typeof step.warn === "string" ? step.warn : step.warn.template);
      if ("announce" in step)
        posted.add(typeof step.announce === "string" ? step.announce : step.announce.template);
      if ("release" in step) posted.add("release");
      if ("notify" in step) phaseNotify.push([step.notify, ["phases", p, "steps", i, "notify"]]);
    });
    for (const trigger of phase.triggers ?? [])
      for (const action of trigger.do) if ("warn" in action) posted.add(action.warn);
  });
  for (const ladder of Object.values(s.ladders ?? {}))
    for (const rung of ladder.rungs)
      for (const action of rung) if ("warn" in action) posted.add(action.warn);
  const check = (text: string, path: Path, where: string) => {
    for (const [, name] of text.matchAll(VARIABLE_PATTERN)) {
      if (!MEMBER_VARIABLES.includes(name as string)) continue;
      r.error(
        path,
        `{${name}} has no value in ${where}: nobody in particular set it off`,
        "use this text in reply:, say: or a trigger's notify:, or leave the variable out",
      );
    }
  };
  for (const name of posted) {
    const template = s.templates?.[name];
    for (const [language, text] of Object.entries(template ?? {}))
      if (text !== undefined)
        check(
          text,
          ["templates", name, language],
          `template "${name}", which is posted to the whole group`,
        );
  }
  for (const [text, path] of phaseNotify) check(text, path, "a phase step's notify");
}

function checkRights(s: Scenario, r: Reporter): void {
  // A right the schema refused (misspelt) is reported there, not again at every step needing it.
  if (brokenUnder(r.broken, ["rights"])) return;
  const declared = new Set<string>(s.rights);
  const reported = new Set<string>();
  const need = (rights: readonly string[], path: Path, what: string) => {
    for (const right of rights) {
      if (declared.has(right) || reported.has(`${right}@${formatPath(path)}`)) continue;
      reported.add(`${right}@${formatPath(path)}`);
      r.error(
        path,
        `${what} needs the admin right ${right}, which the scenario does not declare`,
        `add ${right} to rights:`,
        true,
      );
    }
  };
  const actionRights = (action: TriggerAction, path: Path) => {
    const kind = actionKind(action);
    need(triggerActionRights(action), [...path, kind], kind);
  };
  s.phases.forEach((phase, p) => {
    (phase.steps ?? []).forEach((step, i) => {
      const kind = phaseStepKind(step);
      need(
        stepRights(step),
        ["phases", p, "steps", i, kind],
        `step ${phaseStepId(step, i)} (${kind})`,
      );
    });
    (phase.triggers ?? []).forEach((trigger, t) => {
      trigger.do.forEach((action, a) => {
        actionRights(action, ["phases", p, "triggers", t, "do", a]);
      });
    });
  });
  for (const [name, ladder] of Object.entries(s.ladders ?? {}))
    ladder.rungs.forEach((rung, i) => {
      rung.forEach((action, j) => {
        actionRights(action, ["ladders", name, "rungs", i, j]);
      });
    });
}

function checkPhases(s: Scenario, r: Reporter): void {
  const phaseIds = new Set<string>();
  const posted = new Set<string>();
  s.phases.forEach((phase, p) => {
    if (phaseIds.has(phase.id))
      r.error(
        ["phases", p, "id"],
        `phase id "${phase.id}" is used twice`,
        "give every phase its own id",
      );
    phaseIds.add(phase.id);
    if ((phase.steps ?? []).length === 0 && (phase.triggers ?? []).length === 0)
      r.warning(
        ["phases", p],
        `phase "${phase.id}" has no steps and no triggers`,
        "remove it, or add a wait: so its triggers have time to act",
      );
    if ((phase.steps ?? []).length === 0 && (phase.triggers ?? []).length > 0)
      r.warning(
        ["phases", p],
        `phase "${phase.id}" has triggers but no steps, so it ends at once and its triggers never act`,
        "add a wait: step for as long as the triggers should be active",
      );
    const stepIds = new Set<string>();
    (phase.steps ?? []).forEach((step, i) => {
      const path = ["phases", p, "steps", i];
      const id = phaseStepId(step, i);
      if (stepIds.has(id))
        r.error(
          [...path, "id"],
          `step id "${id}" is used twice in phase ${phase.id}`,
          "give every step its own id",
        );
      stepIds.add(id);
      if ("warn" in step)
        templateRef(s, r, typeof step.warn === "string" ? step.warn : step.warn.template, [
          ...path,
          "warn",
        ]);
      if ("announce" in step)
        templateRef(
          s,
          r,
          typeof step.announce === "string" ? step.announce : step.announce.template,
          [...path, "announce"],
        );
      if ("warn" in step || "announce" in step) posted.add(id);
      if (
        "pin" in step &&
        !posted.has(step.pin.step) &&
        !brokenIds(r.broken, ["phases", p, "steps"]).has(step.pin.step)
      )
        r.error(
          [...path, "pin", "step"],
          `step "${step.pin.step}" is not an earlier warn or announce step`,
          "name a warn or announce step that comes before this one (give it an id:)",
        );
      if ("wait" in step && isDuration(step.wait) === false)
        r.error([...path, "wait"], `bad duration "${step.wait}"`, "a wait must be longer than 0s");
      if ("until" in step && !isUntil(step.until))
        r.error([...path, "until"], `bad time "${step.until}"`, UNTIL_HINT);
      if ("approve" in step && typeof step.approve === "object") {
        if (step.approve.on_timeout && !step.approve.timeout)
          r.error(
            [...path, "approve", "on_timeout"],
            "on_timeout without a timeout",
            "add timeout: (e.g. 1h) or remove on_timeout",
          );
      }
    });
    const triggerIds = new Set<string>();
    (phase.triggers ?? []).forEach((trigger, t) => {
      const path = ["phases", p, "triggers", t];
      const id = triggerId(trigger, t);
      if (triggerIds.has(id))
        r.error(
          [...path, "id"],
          `trigger id "${id}" is used twice in phase ${phase.id}`,
          "give every trigger its own id",
        );
      triggerIds.add(id);
      if (trigger.on === "message" && !trigger.keywords && !trigger.regex)
        r.error(
          [...path, "on"],
          "on: message needs keywords: or regex:",
          "add keywords: [..] or regex: '…'",
          true,
        );
      if (trigger.on !== "message") {
        if (trigger.keywords)
          r.error(
            [...path, "keywords"],
            `keywords: only apply to on: message (this trigger is on: ${trigger.on})`,
            "remove it, or use on: message",
            true,
          );
        if (trigger.regex)
          r.error(
            [...path, "regex"],
            `regex: only applies to on: message (this trigger is on: ${trigger.on})`,
            "remove it, or use on: message",
            true,
          );
      }
      if (trigger.min_score !== undefined && trigger.on !== "trade_offer")
        r.error(
          [...path, "min_score"],
          "min_score: only applies to on: trade_offer",
          "remove it",
          true,
        );
      if (trigger.on === "ghost_ad" && !trigger.after)
        r.error(
          [...path, "on"],
          "on: ghost_ad needs after: (how long a seller has to answer)",
          "add after: 6h",
          true,
        );
      if (trigger.after && trigger.on !== "ghost_ad")
        r.error([...path, "after"], "after: only applies to on: ghost_ad", "remove it", true);
      if (trigger.regex) {
        const problem = regexProblem(trigger.regex);
        if (problem) r.error([...path, "regex"], problem.message, problem.hint);
      }
      for (const limit of ["limit", "chat_limit"] as const) {
        const l = trigger[limit];
        if (l && !isDuration(l.per))
          r.error(
            [...path, limit, "per"],
            `bad duration "${l.per}"`,
            "a limit's period must be longer than 0s",
          );
      }
      trigger.do.forEach((action, a) => {
        checkAction(s, r, action, [...path, "do", a], trigger.on);
      });
    });
  });
}

function checkAction(
  s: Scenario,
  r: Reporter,
  action: TriggerAction,
  path: Path,
  on: string,
): void {
  const kind = actionKind(action);
  if ("reply" in action) templateRef(s, r, action.reply, [...path, "reply"]);
  if ("warn" in action) templateRef(s, r, action.warn, [...path, "warn"]);
  if ("start" in action) {
    const convo = s.conversations?.[action.start];
    if (!convo && brokenNames(r.broken, "conversations").has(action.start)) {
      // Reported where the conversation is written.
    } else if (!convo) {
      const guess = closest(action.start, Object.keys(s.conversations ?? {}));
      r.error(
        [...path, "start"],
        `unknown conversation "${action.start}"`,
        guess ? `did you mean "${guess}"?` : "define it under conversations:",
      );
    } else if (convo.where === "reply" && (on === "private_message" || on === "join_request"))
      r.error(
        [...path, "start"],
        `conversation "${action.start}" runs as replies in the group, but on: ${on} has no group message to reply to`,
        "use where: private for it",
      );
  }
  if ("ladder" in action) {
    if (on === "ladder")
      r.error(
        [...path, "ladder"],
        "a ladder's rung cannot climb a ladder (it would recurse)",
        "use the rung's own actions instead",
      );
    else if (!s.ladders?.[action.ladder] && !brokenNames(r.broken, "ladders").has(action.ladder)) {
      const guess = closest(action.ladder, Object.keys(s.ladders ?? {}));
      r.error(
        [...path, "ladder"],
        `unknown ladder "${action.ladder}"`,
        guess ? `did you mean "${guess}"?` : "define it under ladders:",
      );
    }
  }
  if (
    (kind === "reply" || kind === "purge") &&
    (on === "join" || on === "leave" || on === "join_request")
  )
    r.error(
      [...path, kind],
      `${kind} needs a message, but on: ${on} has none`,
      "use notify:, restrict: or ban: here",
    );
  const span = "restrict" in action ? action.restrict : "ban" in action ? action.ban : undefined;
  if (span !== undefined && span !== "forever" && !isDuration(span))
    r.error([...path, kind], `bad duration "${span}"`, "use e.g. 24h, or forever");
}

function checkConversation(s: Scenario, r: Reporter, name: string): void {
  const convo = s.conversations?.[name];
  if (!convo) return;
  const base = ["conversations", name, "steps"];
  const ids = new Map<string, number>();
  convo.steps.forEach((step, i) => {
    const id = conversationStepId(step, i);
    if (ids.has(id))
      r.error(
        [...base, i, "id"],
        `step id "${id}" is used twice in conversation ${name}`,
        "give every step its own id",
      );
    ids.set(id, i);
  });
  // A step the schema refused leaves the conversation's flow unknown: its targets, what it
  // records and which steps it leads to are not checked against it.
  const flowKnown = !brokenUnder(r.broken, ["conversations", name]);
  const unparsed = brokenIds(r.broken, ["conversations", name]);
  const target = (id: string | undefined, path: Path) => {
    if (id === undefined || id === "end" || ids.has(id) || unparsed.has(id)) return;
    const guess = closest(id, [...ids.keys()]);
    r.error(
      path,
      `no step "${id}" in conversation ${name}`,
      guess ? `did you mean "${guess}"?` : `use one of: ${[...ids.keys()].join(", ")}, end`,
    );
  };
  const recorded = new Set<string>();
  convo.steps.forEach((step, i) => {
    const path = [...base, i];
    target(step.next, [...path, "next"]);
    if ("say" in step) templateRef(s, r, step.say, [...path, "say"]);
    if ("ask" in step) {
      templateRef(s, r, step.ask.template, [...path, "ask", "template"]);
      if (!step.ask.timeout)
        r.error(
          [...path, "ask"],
          "a conversation question without a timeout",
          "add timeout: (e.g. 1h); a member who never answers must not keep the conversation open forever",
          true,
        );
      target(step.ask.on_timeout, [...path, "ask", "on_timeout"]);
      if (typeof step.ask.expect === "object" && "regex" in step.ask.expect) {
        const problem = regexProblem(step.ask.expect.regex);
        if (problem) r.error([...path, "ask", "expect", "regex"], problem.message, problem.hint);
      }
      if (step.ask.record) recorded.add(step.ask.record);
    }
    if ("record" in step) recorded.add(step.record);
    if ("branch" in step) {
      for (const [value, id] of Object.entries(step.branch.cases))
        target(id, [...path, "branch", "cases", value]);
      target(step.branch.default, [...path, "branch", "default"]);
    }
  });
  if (!flowKnown) return;
  convo.steps.forEach((step, i) => {
    if ("branch" in step && !recorded.has(step.branch.on))
      r.error(
        [...base, i, "branch", "on"],
        `branch on "${step.branch.on}", which no ask or record step records`,
        "add record: to the ask whose answer it depends on",
      );
  });

  // Reachability from the first step.
  const reached = new Set<number>();
  const queue = [0];
  while (queue.length) {
    const i = queue.shift() as number;
    if (i < 0 || reached.has(i)) continue;
    reached.add(i);
    queue.push(...conversationEdges(convo, i));
  }
  convo.steps.forEach((step, i) => {
    if (!reached.has(i))
      r.error(
        [...base, i],
        `step ${conversationStepId(step, i)} of conversation ${name} can never be reached`,
        "point a next:, branch or on_timeout at it, or remove it",
      );
  });

  // A loop must wait for the member somewhere, or it spins without end.
  const state = new Map<number, "open" | "done">();
  const reportedLoop = new Set<number>();
  const visit = (i: number, trail: number[]) => {
    if (i < 0) return;
    const step = convo.steps[i];
    if (!step || conversationStepKind(step) === "ask") return;
    if (state.get(i) === "open") {
      const loop = trail.slice(trail.indexOf(i));
      const first = Math.min(...loop);
      if (!reportedLoop.has(first)) {
        reportedLoop.add(first);
        r.error(
          [...base, first],
          `conversation ${name} loops through ${loop.map((j) => conversationStepId(convo.steps[j] as never, j)).join(" → ")} without asking anything`,
          "put an ask: in the loop, or end it",
        );
      }
      return;
    }
    if (state.get(i) === "done") return;
    state.set(i, "open");
    for (const next of conversationEdges(convo, i)) visit(next, [...trail, i]);
    state.set(i, "done");
  };
  for (let i = 0; i < convo.steps.length; i++) visit(i, []);
}

function checkUnused(s: Scenario, r: Reporter): void {
  const used = new Set([
    ...scenarioTemplateRefs(s),
    ...brokenRefs(r.broken, ["warn", "announce", "reply", "say", "template"]),
  ]);
  for (const convo of Object.values(s.conversations ?? {}))
    for (const step of convo.steps)
      if ("ask" in step && typeof step.ask.expect === "object" && "choices" in step.ask.expect)
        for (const choice of step.ask.expect.choices) used.add(`choice-${choice}`);
  for (const name of Object.keys(s.templates ?? {}))
    if (
      !used.has(name) &&
      !isShippedTemplate(name) &&
      !["text-please", "not-a-choice", "not-a-command", "not-understood"].includes(name)
    )
      r.warning(
        ["templates", name],
        `template "${name}" is never used`,
        "remove it or use it",
        true,
      );
  const started = brokenRefs(r.broken, ["start"]);
  const ladders = brokenRefs(r.broken, ["ladder"]);
  const scan = (a: TriggerAction) => {
    if ("start" in a) started.add(a.start);
    if ("ladder" in a) ladders.add(a.ladder);
  };
  for (const phase of s.phases) for (const t of phase.triggers ?? []) t.do.forEach(scan);
  for (const l of Object.values(s.ladders ?? {})) for (const rung of l.rungs) rung.forEach(scan);
  for (const name of Object.keys(s.conversations ?? {}))
    if (!started.has(name))
      r.warning(
        ["conversations", name],
        `conversation "${name}" is never started`,
        "start it from a trigger with start:",
        true,
      );
  for (const name of Object.keys(s.ladders ?? {}))
    if (!ladders.has(name))
      r.warning(
        ["ladders", name],
        `ladder "${name}" is never climbed`,
        "use it from a trigger with ladder:",
        true,
      );
}
