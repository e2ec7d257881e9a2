import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { I18n } from "@grammyjs/i18n";

/**
 * Member-facing texts (warnings, lockdown title and description) as Fluent
 * templates, Dutch and English. Templates are HTML: variables are escaped by
 * the caller before they are passed in.
 */

export const LANGUAGES = ["nl", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

export const WARNING_TEMPLATES = ["takeover", "trade", "freeze", "release"] as const;
export type WarningTemplate = (typeof WARNING_TEMPLATES)[number];

let i18n: I18n | undefined;
const keysByLanguage = new Map<Language, Set<string>>();

function load(): I18n {
  if (i18n) return i18n;
  const instance = new I18n({
    // A missing key is reported by `hasTemplate`, where the caller can say what to do.
    fluentOptions: { warningHandler: () => undefined },
    defaultLocale: "nl",
    // Bidi isolation marks around variables would end up in Telegram messages.
    fluentBundleOptions: { useIsolating: false },
  });
  for (const language of LANGUAGES) {
    const filePath = fileURLToPath(new URL(`./locales/${language}.ftl`, import.meta.url));
    instance.loadLocaleSync(language, { filePath });
    const source = readFileSync(filePath, "utf8");
    keysByLanguage.set(
      language,
      new Set([...source.matchAll(/^([a-z][a-z0-9-]*)\s*=/gm)].map((m) => m[1] as string)),
    );
  }
  i18n = instance;
  return instance;
}

/** Whether a template exists in every shipped language. */
export function hasTemplate(key: string, languages: readonly Language[] = LANGUAGES): boolean {
  load();
  return languages.every((language) => keysByLanguage.get(language)?.has(key) === true);
}

/** Renders one template in one language. */
export function render(
  language: Language,
  key: string,
  vars: Record<string, string | number> = {},
): string {
  return load().t(language, key, vars);
}

/** The Dutch text, a separator, then the English: one message for a mixed audience. */
export function renderBilingual(key: string, vars: Record<string, string | number> = {}): string {
  return `${render("nl", key, vars)}\n\n—\n\n${render("en", key, vars)}`;
}
