import { RE2JS, RE2JSSyntaxException } from "re2js";

/**
 * Regular expressions written by scenario authors run on every message of a
 * seized group, and the text is the members': a pattern that backtracks lets
 * any member stall the bot (`(a?){23}b` took 8.7 s on 23 characters in
 * V8's engine). They therefore run on RE2 (re2js, a JavaScript port), which
 * matches in time linear in the text whatever the pattern, and the linter
 * refuses what RE2 cannot run, with what to write instead. RE2's time is
 * also proportional to the size of the compiled program, which counted
 * repeats inflate (`\w{1000}` is a thousand instructions), so that is capped
 * too, as is the pattern's length.
 */

export const MAX_PATTERN_LENGTH = 200;
/**
 * At most this many RE2 instructions. A literal character is one, so a
 * 200-character alternation of words stays under 200; counted repeats
 * multiply (`\w{100}` is a hundred). At 300, the worst shapes measured
 * (`bench/regex.ts`) scan a 10 kB text in a few milliseconds.
 */
export const MAX_PROGRAM_SIZE = 300;

/** Case-insensitive with Unicode case folding, as the patterns were under `RegExp(…, "iu")`. */
const FLAGS = RE2JS.CASE_INSENSITIVE;

export interface RegexProblem {
  message: string;
  hint: string;
}

const SYNTAX = "see https://github.com/google/re2/wiki/Syntax for what RE2 accepts";

/** Why a pattern is refused, or undefined when RE2 can run it within the caps. */
export function regexProblem(pattern: string): RegexProblem | undefined {
  const checked = check(pattern);
  return "problem" in checked ? checked.problem : undefined;
}

function check(pattern: string): { re: RE2JS } | { problem: RegexProblem } {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return {
      problem: {
        message: `regex is ${pattern.length} characters long (at most ${MAX_PATTERN_LENGTH})`,
        hint: "split it into several triggers or use keywords",
      },
    };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, FLAGS);
  } catch (err) {
    if (err instanceof RE2JSSyntaxException) return { problem: syntaxProblem(err) };
    return {
      problem: { message: `regex does not compile: ${(err as Error).message}`, hint: SYNTAX },
    };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE)
    return {
      problem: {
        message: `regex compiles to ${size} instructions (at most ${MAX_PROGRAM_SIZE}): a counted repeat such as {100} copies what it repeats`,
        hint: "use + or * instead of large counts, or split it into several triggers",
      },
    };
  return { re };
}

/**
 * RE2's parser names the fragment it stopped at; turn the common refusals
 * (what JavaScript or PCRE accept and RE2 does not) into what to write instead.
 */
function syntaxProblem(err: RE2JSSyntaxException): RegexProblem {
  const what = err.getDescription();
  const at = err.getPattern() ?? "";
  const fragment = at.length > 20 ? `${at.slice(0, 20)}…` : at;
  if (what === "invalid or unsupported Perl syntax" && (at === "(?=" || at === "(?!"))
    return {
      message: `regex uses a lookahead \`${at}\`, which RE2 cannot run`,
      hint: "RE2 has no lookahead: match the text itself, or use keywords:",
    };
  if (what === "invalid named capture" && (at.startsWith("(?<=") || at.startsWith("(?<!")))
    return {
      message: `regex uses a lookbehind \`${at.slice(0, 4)}\`, which RE2 cannot run`,
      hint: "RE2 has no lookbehind: match the text before as part of the pattern, or use keywords:",
    };
  if (what === "invalid escape sequence" && /^\\([1-9]|k)/.test(at))
    return {
      message: `regex uses a back-reference \`${at}\`, which RE2 cannot run`,
      hint: "RE2 has no back-references: write the repeated text out, or use two triggers",
    };
  if (what === "invalid escape sequence" && at.startsWith("\\u"))
    return {
      message: "regex writes a character as \\u…, which RE2 does not read",
      hint: "write \\x{00e9} (the code point in hex) or the character itself",
    };
  if (what === "invalid nested repetition operator" && /^(?:[*+?]|\{\d*(?:,\d*)?\})\+$/.test(at))
    return {
      message: `regex uses a possessive quantifier \`${at}\`, which RE2 cannot run`,
      hint: `drop the last +, writing ${at.slice(0, -1)} for ${at}: RE2 never backtracks, so the plain quantifier is as fast`,
    };
  if (what === "invalid nested repetition operator")
    return {
      message: `regex repeats a repeat directly \`${fragment}\``,
      hint: "put the inner repeat in a group, (?:a+)*, or drop one quantifier",
    };
  if (what === "invalid repeat count")
    return {
      message: `regex has a repeat count RE2 refuses \`${fragment}\``,
      hint: "RE2 repeats at most 1000 times (nested repeats multiply): use + or * instead",
    };
  if (what.startsWith("missing closing") || what.startsWith("unexpected )"))
    return {
      message: `regex does not compile: ${what}`,
      hint: "check the brackets: every ( needs a ) and every [ a ]; escape a literal one as \\( or \\[",
    };
  return {
    message: `regex does not compile: ${what}${fragment ? ` \`${fragment}\`` : ""}`,
    hint: SYNTAX,
  };
}

export interface SafeRegex {
  readonly source: string;
  /** Whether the pattern matches anywhere in the text; linear in the text's length. */
  test(text: string): boolean;
}

/** Compiles a pattern the linter accepted; throws with the linter's message otherwise. */
export function compileSafeRegex(pattern: string): SafeRegex {
  const checked = check(pattern);
  if ("problem" in checked) throw new Error(`${checked.problem.message}: ${checked.problem.hint}`);
  const { re } = checked;
  return { source: pattern, test: (text) => re.test(text) };
}
