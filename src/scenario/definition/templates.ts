import {
  render,
  type Language as ShippedLanguage,
  WARNING_TEMPLATES,
} from "../../actions/templates.ts";
import { escapeHtml } from "../../base/html.ts";
import { isShippedLanguage, languageOf } from "./languages.ts";
import type { Language, Scenario } from "./schema.ts";

/**
 * Member-facing texts of a scenario. A member gets their own language (from
 * Telegram's language_code) when the scenario has it, else the scenario's
 * default; the whole group gets every language, the default first. Templates
 * are HTML written by the scenario's author, kept exactly as written
 * (right-to-left text and the direction marks an author put in included); the
 * variables filled in come from members (names, answers) and are escaped,
 * with invisible formatting characters shown as `[U+202E]` (`escapeHtml`), so
 * a member's name cannot turn the text around it.
 */

export const VARIABLE_PATTERN = /\{([a-z_]+)\}/g;

export type Vars = Partial<Record<string, string | number>>;

/** Fills `{name}` variables, escaped; unknown ones are left as written (the linter reports them). */
export function interpolate(text: string, vars: Vars, html = true): string {
  return text.replace(VARIABLE_PATTERN, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return html ? escapeHtml(String(value)) : String(value);
  });
}

export function defaultLanguage(scenario: Scenario): Language {
  return scenario.default_language ?? (scenario.languages[0] as Language);
}

/** The member's language when the scenario speaks it, else the scenario's default. */
export function languageFor(scenario: Scenario, languageCode: string | undefined): Language {
  const code = languageOf(languageCode);
  const match = scenario.languages.find((l) => l === code);
  return match ?? defaultLanguage(scenario);
}

export function isShippedTemplate(name: string): boolean {
  return (WARNING_TEMPLATES as readonly string[]).includes(name);
}

export function hasScenarioTemplate(scenario: Scenario, name: string): boolean {
  return scenario.templates?.[name] !== undefined || isShippedTemplate(name);
}

/** One template in one language. */
export function renderTemplate(
  scenario: Scenario,
  name: string,
  language: Language,
  vars: Vars,
): string {
  const own = scenario.templates?.[name];
  if (own) {
    const text = own[language] ?? own[defaultLanguage(scenario)] ?? Object.values(own)[0] ?? "";
    return interpolate(text, vars);
  }
  if (isShippedTemplate(name))
    // Shipped in Dutch and English only: the linter refuses a scenario in another language that posts one.
    return render(shippedLanguage(language), `warning-${name}`, {
      case: escapeHtml(String(vars.case ?? "")),
      group: escapeHtml(String(vars.group ?? "")),
    });
  throw new Error(`scenario ${scenario.id} has no template "${name}"`);
}

function shippedLanguage(language: Language): ShippedLanguage {
  return (isShippedLanguage(language) ? language : "en") as ShippedLanguage;
}

/** For the whole group: every language of the scenario, default first, separated by a rule. */
export function renderForGroup(scenario: Scenario, name: string, vars: Vars): string {
  const first = defaultLanguage(scenario);
  const order = [first, ...scenario.languages.filter((l) => l !== first)];
  return order.map((l) => renderTemplate(scenario, name, l, vars)).join("\n\n—\n\n");
}

/**
 * What a conversation says when an answer cannot be used, in Dutch and
 * English; a scenario may override each by name, and one in another
 * language must (the linter says so).
 */
export const BUILT_IN_TEXTS: Record<string, Record<ShippedLanguage, string>> = {
  "text-please": {
    nl: "Antwoord alstublieft met tekst.",
    en: "Please answer with text.",
  },
  "not-a-choice": {
    nl: "Kies alstublieft een van de knoppen, of typ een van de antwoorden.",
    en: "Please choose one of the buttons, or type one of the answers.",
  },
  "not-a-command": {
    nl: "Dat is een opdracht, geen antwoord. Antwoord alstublieft op de vraag.",
    en: "That is a command, not an answer. Please answer the question.",
  },
  "not-understood": {
    nl: "Dat antwoord begrijp ik niet. Probeer het opnieuw.",
    en: "I do not understand that answer. Please try again.",
  },
};

/** A built-in text, or the scenario's own template of the same name. */
export function renderBuiltIn(
  scenario: Scenario,
  name: keyof typeof BUILT_IN_TEXTS,
  language: Language,
  vars: Vars,
): string {
  if (scenario.templates?.[name]) return renderTemplate(scenario, name, language, vars);
  const texts = BUILT_IN_TEXTS[name] as Record<ShippedLanguage, string>;
  return interpolate(texts[shippedLanguage(language)], vars);
}
