/**
 * Escaping for HTML that shows people's own text: to operators in the control
 * room, to members in a seized group, to auditors in a report. Names,
 * usernames and message text are written by the people under investigation:
 * besides HTML, they may carry right-to-left overrides that reverse what an
 * operator reads, or zero-width characters that make two names look alike.
 * Those are shown as `[U+202E]`, never applied. There is one escaper so that
 * no path can show user text by a weaker rule.
 */

const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u061C\uFEFF]/g;

/**
 * The same rule as browser JavaScript, for pages that put people's text on
 * screen with `textContent` (which parses no HTML): the report and the
 * console define `visible(s)` from this, so no page has an escaper of its own.
 */
export const BROWSER_SHOW_INVISIBLE = `function visible(s) {
  return String(s).replace(new RegExp(${JSON.stringify(INVISIBLE.source)}, "g"), function (c) {
    return "[U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "]";
  });
}`;

/** Shows invisible formatting characters as `[U+XXXX]`, without escaping HTML. */
export function showInvisible(text: string): string {
  return text.replace(
    INVISIBLE,
    (c) => `[U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")}]`,
  );
}

export function escapeHtml(text: string): string {
  return showInvisible(
    text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"),
  );
}

/** A person as operators see them: name, @username and id, all escaped. */
export function describeUser(user: {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  title?: string;
}): string {
  const name = user.title ?? [user.first_name, user.last_name].filter(Boolean).join(" ");
  return `${escapeHtml(name || "(no name)")}${user.username ? ` @${escapeHtml(user.username)}` : ""} (<code>${user.id}</code>)`;
}
