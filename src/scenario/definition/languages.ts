/**
 * The languages a scenario may be written in: ISO 639-1 codes, as Telegram
 * gives a member's `language_code` (`ar`, `tr`, `pl`, or `pt-br` whose first
 * part is the language). Warden ships its own member-facing texts (the
 * warnings `takeover`, `trade`, `freeze`, `release`, the lockdown's title and
 * description, and what a conversation says to an answer it cannot use) in
 * Dutch and English only; a scenario in any other language writes its own,
 * and the linter says which.
 */

/** Every ISO 639-1 code, in alphabetical order. */
export const LANGUAGE_CODES: readonly [string, ...string[]] = (
  "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv " +
  "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho " +
  "hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku " +
  "kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn " +
  "no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm " +
  "sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi " +
  "vo wa wo xh yi yo za zh zu"
).split(" ") as [string, ...string[]];

/** The languages Warden's own member-facing texts are written in. */
export const SHIPPED_LANGUAGES: readonly string[] = ["nl", "en"];

export function isShippedLanguage(language: string): boolean {
  return SHIPPED_LANGUAGES.includes(language);
}

const names = new Intl.DisplayNames(["en"], { type: "language", fallback: "code" });

/** `Arabic (ar)`, for messages. */
export function languageName(code: string): string {
  const name = names.of(code);
  return name && name !== code ? `${name} (${code})` : code;
}

/** The language part of a Telegram `language_code` (`pt-br` → `pt`), lower-cased. */
export function languageOf(code: string | undefined): string | undefined {
  return code?.toLowerCase().split(/[-_]/)[0] || undefined;
}
