import { pathToFileURL } from "node:url";
import { createContext, Script } from "node:vm";
import { createScenarioLibrary } from "../src/scenario/definition/library.ts";
import type { LoadedScenario } from "../src/scenario/definition/load.ts";
import { compileSafeRegex, MAX_PROGRAM_SIZE } from "../src/scenario/definition/safe-regex.ts";
import type { Trigger } from "../src/scenario/definition/schema.ts";
import type { ScenarioEvent } from "../src/scenario/runtime/events.ts";
import { matches } from "../src/scenario/runtime/triggers.ts";
import { CORPUS, HOLDOUT, loadCorpus } from "../tests/corpus/corpus.ts";
import { median } from "./median.ts";

/**
 * Scenario regexes on RE2 (re2js), which Warden runs because V8's RegExp
 * backtracks: throughput on the detector corpus next to plain `RegExp` with
 * the same patterns in the same run, and the worst case, 10 kB messages built
 * to make a backtracking engine explode, next to RegExp on the same text,
 * stopped after half a second (most would take it days).
 *
 * The shipped scenarios have keyword triggers but no `regex:`, so the
 * throughput uses six realistic patterns a scenario author might write, and
 * reports the shipped keyword triggers (through the engine's `matches`) beside.
 * Goal: every adversarial 10 kB message in under 10 ms on RE2.
 *
 *   npx tsx bench/regex.ts        (BENCH_REGEX_MESSAGES to resize)
 */

const MESSAGES = Number(process.env.BENCH_REGEX_MESSAGES ?? 100_000);
const GOAL_MS = 10;
const FLOOD = 10_240;
/** Fresh compiles per adversarial message: no DFA state carried from one run to the next. */
const ROUNDS = 21;
/** RegExp is stopped after this long on one message. */
const BASELINE_LIMIT_MS = 500;

/** What an author might write for a seized fireworks or drugs group (none ship). */
const REALISTIC = [
  "\\b(?:cobra|mortier|vlinder|single ?shot|romeinse kaars|nitraat)s?\\b",
  "\\d+\\s*(?:euro|eur|€)|€\\s*\\d+",
  "(?:\\+31|0)\\s?6[\\s-]?\\d{8}",
  "\\b(?:te koop|tk|for sale|dm|pb|pm)\\b",
  "(?:wickr|signal|snap(?:chat)?|telegram)\\s*:?\\s*@?\\w{3,}",
  "\\b(?:politie|police|undercover|agent)\\b",
];

/**
 * Shapes that backtrack exponentially or polynomially in V8, each with a text
 * built against it, and two near RE2's program cap with texts that keep its
 * DFA busy. `(a?){23}b` runs on the flood alone (RE2 sees at once that no b
 * means no match) and on the flood ending in b (a match only at the end).
 */
const ADVERSARIAL: Array<{ pattern: string; text: (n: number) => string }> = [
  { pattern: "(a?){23}b", text: (n) => "a".repeat(n) },
  { pattern: "(a?){23}b", text: (n) => `${"a".repeat(n - 1)}b` },
  { pattern: "(?:a?){24}b", text: (n) => "a".repeat(n) },
  { pattern: "(?:a?){24}b", text: (n) => `${"a".repeat(n - 1)}b` },
  { pattern: "(a+)+$", text: (n) => `${"a".repeat(n - 1)}!` },
  { pattern: "(x|xy)+z", text: (n) => "xy".repeat(n).slice(0, n) },
  { pattern: "^.*.*.*.*.*x$", text: (n) => `${"y".repeat(n - 1)}!` },
  { pattern: "(?:\\w?){95}\\w{95}0", text: (n) => `${"a".repeat(150)}-0`.repeat(n).slice(0, n) },
  { pattern: "(?:\\p{L}|\\s){290}0", text: (n) => `${"ab ".repeat(50)}-0`.repeat(n).slice(0, n) },
];

function ms(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

function rate(messages: readonly string[], classify: (text: string) => boolean): number {
  let positives = 0;
  for (let i = 0; i < Math.min(messages.length, 10_000); i++)
    if (classify(messages[i] as string)) positives++;
  const started = process.hrtime.bigint();
  for (const text of messages) if (classify(text)) positives++;
  if (positives < 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return messages.length / (ms(started) / 1000);
}

/**
 * RegExp on the same text, in a vm context whose timeout interrupts it: a
 * backtracking run on these shapes would otherwise take days.
 */
function backtracking(pattern: string, text: string): number | undefined {
  const context = createContext({ re: new RegExp(pattern, "iu"), text });
  const script = new Script("re.test(text)");
  const started = process.hrtime.bigint();
  try {
    script.runInContext(context, { timeout: BASELINE_LIMIT_MS });
    return ms(started);
  } catch {
    return undefined;
  }
}

function event(text: string): ScenarioEvent {
  return {
    kind: "message",
    chatId: -1,
    updateId: 1,
    member: { id: 1, firstName: "m" },
    message: { id: 1, text, media: false, command: false },
  };
}

function perSecond(n: number): string {
  return `${Math.round(n).toLocaleString("en")} msgs/s`;
}

export async function benchRegex(): Promise<void> {
  const texts = [...loadCorpus(CORPUS), ...loadCorpus(HOLDOUT)].map((m) => m.text);
  const messages: string[] = [];
  while (messages.length < MESSAGES) messages.push(...texts);
  messages.length = MESSAGES;

  const shipped = (await createScenarioLibrary().list()).filter(
    (s): s is LoadedScenario => "scenario" in s,
  );
  const messageTriggers = shipped.flatMap((s) =>
    s.scenario.phases.flatMap((p) => (p.triggers ?? []).filter((t) => t.on === "message")),
  ) as Trigger[];
  const shippedRegexes = messageTriggers.filter((t) => t.regex !== undefined).length;

  const re2 = REALISTIC.map(compileSafeRegex);
  const js = REALISTIC.map((p) => new RegExp(p, "iu"));
  const re2Rate = rate(messages, (text) => re2.some((re) => re.test(text)));
  const jsRate = rate(messages, (text) => js.some((re) => re.test(text)));
  const keywordRate = rate(messages, (text) =>
    messageTriggers.some((t) => matches(t, event(text))),
  );
  let agree = 0;
  for (const text of texts)
    if (re2.every((re, i) => re.test(text) === (js[i] as RegExp).test(text))) agree++;

  console.log(
    `scenario regexes: ${MESSAGES.toLocaleString("en")} messages (detector corpus + holdout, repeated)`,
  );
  console.log(
    `  shipped scenarios: ${messageTriggers.length} message triggers, ${shippedRegexes} with regex: (so: ${REALISTIC.length} realistic patterns of our own)`,
  );
  console.log(
    `  ${REALISTIC.length} patterns, re2js           ${perSecond(re2Rate).padStart(16)}   (baseline RegExp ${perSecond(jsRate)}; same verdict on ${agree}/${texts.length} corpus messages)`,
  );
  console.log(`  shipped keyword triggers     ${perSecond(keywordRate).padStart(16)}   (matches)`);

  console.log(
    `  worst case: ${FLOOD.toLocaleString("en")}-character adversarial messages, ${ROUNDS} fresh compiles each (goal < ${GOAL_MS} ms)`,
  );
  for (const { pattern, text } of ADVERSARIAL) {
    const flood = text(FLOOD);
    const times: number[] = [];
    let verdict = false;
    for (let i = 0; i < ROUNDS; i++) {
      const re = compileSafeRegex(pattern);
      const started = process.hrtime.bigint();
      verdict = re.test(flood);
      times.push(ms(started));
    }
    const worst = Math.max(...times);
    const baseline = backtracking(pattern, flood);
    console.log(
      `    ${pattern.padEnd(22)} …${flood.slice(-2).padEnd(2)}  ${verdict ? "match   " : "no match"}` +
        `  median ${median(times).toFixed(2).padStart(5)} ms, worst ${worst.toFixed(2).padStart(6)} ms ${worst < GOAL_MS ? "met   " : "MISSED"}` +
        `  (baseline RegExp ${baseline === undefined ? `stopped after ${BASELINE_LIMIT_MS} ms` : `${baseline.toFixed(2)} ms`})`,
    );
  }
  console.log(
    `  program cap: ${MAX_PROGRAM_SIZE} RE2 instructions (the last two patterns are near it)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchRegex();
}
