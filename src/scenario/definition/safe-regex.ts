import { createContext, Script } from "node:vm";

/**
 * Regular expressions written by scenario authors run on every message of a
 * seized group, so one that backtracks catastrophically would stall the bot.
 * Two bounds: the linter refuses the shapes that can explode (a quantified
 * group holding another quantifier or an alternation, back-references,
 * overlong patterns), and patterns with several open-ended quantifiers run
 * under a time limit on input no longer than a Telegram message.
 */

export const MAX_PATTERN_LENGTH = 200;
/** Telegram's own limit on a message; nothing longer reaches the bot. */
export const MAX_INPUT_LENGTH = 4096;
const TIME_LIMIT_MS = 25;

export interface RegexProblem {
  message: string;
  hint: string;
}

/** Why a pattern is refused, or undefined when it is safe to run. */
export function regexProblem(pattern: string): RegexProblem | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return {
      message: `regex is ${pattern.length} characters long (at most ${MAX_PATTERN_LENGTH})`,
      hint: "split it into several triggers or use keywords",
    };
  try {
    new RegExp(pattern, "iu");
  } catch (err) {
    return {
      message: `regex does not compile: ${(err as Error).message}`,
      hint: "check brackets and escapes; patterns use JavaScript syntax with the u and i flags",
    };
  }
  if (/\\[1-9]|\\k</.test(pattern))
    return {
      message: "regex uses a back-reference",
      hint: "back-references can backtrack without bound; match the text twice instead",
    };
  const nested = nestedQuantifier(pattern);
  if (nested)
    return {
      message: `regex has a quantified group that ${nested}, which can backtrack catastrophically`,
      hint: "remove the inner quantifier or alternation, e.g. (ab)+ instead of (a+b)+, or use keywords",
    };
  return undefined;
}

/** Scans groups; reports a `+`, `*` or `{n,}` applied to a group that itself repeats or alternates. */
function nestedQuantifier(pattern: string): string | undefined {
  const stack: Array<{ repeats: boolean; alternates: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      continue;
    }
    const top = stack.at(-1);
    if (c === "(") stack.push({ repeats: false, alternates: false });
    else if (c === "|" && top) top.alternates = true;
    else if (c === ")") {
      const group = stack.pop();
      const quantified = unboundedAt(pattern, i + 1);
      if (group && quantified) {
        if (group.repeats) return "contains another quantifier";
        if (group.alternates) return "contains an alternation";
      }
      const parent = stack.at(-1);
      if (parent && group && (group.repeats || quantified)) parent.repeats = true;
    } else if (top && unboundedAt(pattern, i)) top.repeats = true;
  }
  return undefined;
}

/** Whether an open-ended quantifier (`*`, `+`, `{n,}`, `{n,m}` with m > 1) starts at `i`. */
function unboundedAt(pattern: string, i: number): boolean {
  const c = pattern[i];
  if (c === "*" || c === "+") return true;
  if (c !== "{") return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === "" || Number(m[3]) > 1;
}

function unboundedCount(pattern: string): number {
  let n = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (unboundedAt(pattern, i)) n++;
  }
  return n;
}

export interface SafeRegex {
  readonly source: string;
  /** Whether the text matches; false (never a hang) when the time limit is reached. */
  test(text: string): boolean;
}

/** Compiles a pattern the linter accepted; throws with the linter's message otherwise. */
export function compileSafeRegex(pattern: string): SafeRegex {
  const problem = regexProblem(pattern);
  if (problem) throw new Error(`${problem.message}: ${problem.hint}`);
  const re = new RegExp(pattern, "iu");
  // One open-ended quantifier cannot backtrack more than linearly; several run under a clock.
  if (unboundedCount(pattern) <= 1)
    return { source: pattern, test: (text) => re.test(text.slice(0, MAX_INPUT_LENGTH)) };
  const context = createContext({ re, text: "" });
  const script = new Script("re.test(text)");
  return {
    source: pattern,
    test(text) {
      context.text = text.slice(0, MAX_INPUT_LENGTH);
      try {
        return script.runInContext(context, { timeout: TIME_LIMIT_MS }) === true;
      } catch {
        return false;
      }
    },
  };
}
