import { describe, expect, it } from "vitest";
import { compileLexicon } from "../../src/collect/detector/compile.ts";
import { detectTrade } from "../../src/collect/detector/detect.ts";
import { defaultLexicon } from "../../src/collect/lexicon/default.ts";
import { LexiconError } from "../../src/collect/lexicon/error.ts";
import { mergeLexicon } from "../../src/collect/lexicon/merge.ts";
import { parseLexiconOverride } from "../../src/collect/lexicon/parse.ts";
import { type Lexicon, lexiconSchema } from "../../src/collect/lexicon/schema.ts";

function problems(lexicon: unknown): string {
  const result = lexiconSchema.safeParse(lexicon);
  if (result.success) return "";
  return result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
}

function withTerms(category: string, terms: unknown[]): unknown {
  return { ...defaultLexicon, terms: { ...defaultLexicon.terms, [category]: terms } };
}

describe("lexicon schema", () => {
  it("accepts the shipped default", () => {
    expect(problems(defaultLexicon)).toBe("");
  });

  it("refuses regular expressions with a message saying what is accepted", () => {
    expect(problems(withTerms("item:fireworks", ["(cobra|kobra)+"]))).toMatch(
      /terms\.item:fireworks\.0: term "\(cobra\|kobra\)\+" contains "\(".*regular expressions are not accepted/,
    );
    expect(problems(withTerms("item:fireworks", ["(a+)+$"]))).toMatch(
      /regular expressions are not accepted/,
    );
  });

  it("allows * only at an end and next to at least three characters", () => {
    expect(problems(withTerms("item:fireworks", ["co*bra"]))).toMatch(/at the start or the end/);
    expect(problems(withTerms("item:fireworks", ["*cobra*"]))).toMatch(/may appear once/);
    expect(problems(withTerms("item:fireworks", ["c*"]))).toMatch(/at least 3 characters/);
    expect(problems(withTerms("item:fireworks", ["*zware knallers"]))).toMatch(/single word/);
    expect(problems(withTerms("item:fireworks", ["cobra*", "*vuurwerk", "single shot*"]))).toBe("");
  });

  it("requires a weight for every category that scores, and knows its rule ids", () => {
    expect(problems(withTerms("item:weapons", ["taser"]))).toMatch(
      /weights\.item:weapons: category "item:weapons" has terms but no weight/,
    );
    expect(
      problems({ ...defaultLexicon, weights: { ...defaultLexicon.weights, "prise+quantity": 1 } }),
    ).toMatch(/weight for "prise\+quantity", which is neither a term category nor one of/);
    expect(problems(withTerms("vocab:money", ["knaak"]))).toMatch(
      /unknown vocabulary category "vocab:money"/,
    );
  });

  it("refuses a malformed lexicon at compile time", () => {
    const broken = { ...defaultLexicon, threshold: -1 } as Lexicon;
    expect(() => compileLexicon(broken)).toThrow(LexiconError);
    expect(() => compileLexicon(broken)).toThrow(/threshold/);
  });
});

describe("case overrides", () => {
  it("adds terms: a case's local slang becomes an item", () => {
    const text = "knetterballen te koop, 10 voor 50";
    expect(detectTrade(text, compileLexicon(defaultLexicon)).rules).not.toContain("item:fireworks");
    const merged = mergeLexicon(defaultLexicon, { add: { "item:fireworks": ["knetterbal*"] } });
    const verdict = detectTrade(text, compileLexicon(merged));
    expect(verdict.rules).toContain("item:fireworks");
    expect(verdict.matches.find((m) => m.rule === "item:fireworks")?.term).toBe("knetterbal*");
  });

  it("removes terms and changes weights and the threshold", () => {
    const text = "wie heeft cobra's?";
    expect(detectTrade(text, compileLexicon(defaultLexicon)).trade).toBe(true);
    const removed = mergeLexicon(defaultLexicon, { remove: { "item:fireworks": ["COBRA*"] } });
    expect(detectTrade(text, compileLexicon(removed)).trade).toBe(false);
    const stricter = mergeLexicon(defaultLexicon, { threshold: 1.5 });
    expect(detectTrade(text, compileLexicon(stricter)).trade).toBe(false);
    const muted = mergeLexicon(defaultLexicon, { weights: { "intent:buy": 0 } });
    expect(detectTrade(text, compileLexicon(muted)).score).toBe(
      defaultLexicon.weights["item:fireworks"],
    );
  });

  it("re-adding a term replaces its weight instead of duplicating it", () => {
    const merged = mergeLexicon(defaultLexicon, {
      add: { "item:fireworks": [{ term: "vuurwerk", weight: 2 }] },
    });
    const entries = (merged.terms["item:fireworks"] ?? []).filter(
      (t) => (typeof t === "string" ? t : t.term) === "vuurwerk",
    );
    expect(entries).toEqual([{ term: "vuurwerk", weight: 2 }]);
  });

  it("can open a new category when it gives the weight too", () => {
    expect(() => mergeLexicon(defaultLexicon, { add: { "item:weapons": ["taser"] } })).toThrow(
      /has terms but no weight/,
    );
    const merged = mergeLexicon(defaultLexicon, {
      add: { "item:weapons": ["taser*", "boksbeugel*"] },
      weights: { "item:weapons": 0.6 },
    });
    expect(detectTrade("tasers te koop, pb", compileLexicon(merged)).rules).toContain(
      "item:weapons",
    );
    expect(merged).not.toBe(defaultLexicon);
    expect(defaultLexicon.terms["item:weapons"]).toBeUndefined();
  });

  it("reads an override from YAML and reports problems with the file name", () => {
    const override = parseLexiconOverride(
      [
        "threshold: 1.2",
        "add:",
        "  item:fireworks:",
        "    - knetterbal*",
        "    - { term: kanonslag, weight: 0.9 }",
      ].join("\n"),
      "case.yaml",
    );
    expect(override).toEqual({
      threshold: 1.2,
      add: { "item:fireworks": ["knetterbal*", { term: "kanonslag", weight: 0.9 }] },
    });
    expect(parseLexiconOverride('{"remove": {"payment": ["cash"]}}', "case.json")).toEqual({
      remove: { payment: ["cash"] },
    });
    expect(() => parseLexiconOverride("add: [unclosed", "bad.yaml")).toThrow(
      /bad\.yaml: not valid YAML or JSON/,
    );
    expect(() => parseLexiconOverride("add:\n  item:fireworks: ['(cobra)+']", "bad.yaml")).toThrow(
      /bad\.yaml: not a valid lexicon override[\s\S]*regular expressions are not accepted/,
    );
    expect(() => parseLexiconOverride("treshold: 2", "typo.yaml")).toThrow(
      /typo\.yaml[\s\S]*treshold/,
    );
  });
});
