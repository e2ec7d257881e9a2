/** Splits a command's argument text on whitespace; each action's command form reads the words. */
export function splitArgs(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}
