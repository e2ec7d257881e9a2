import { describe, expect, it } from "vitest";
import { compileLexicon } from "../../src/collect/detector/compile.ts";
import { detectTrade } from "../../src/collect/detector/detect.ts";
import { evaluateDetector } from "../../src/collect/detector/evaluate.ts";
import { defaultLexicon } from "../../src/collect/lexicon/default.ts";
import { CORPUS, HOLDOUT, loadCorpus } from "../corpus/corpus.ts";

const lexicon = compileLexicon(defaultLexicon);
const detect = (text: string) => detectTrade(text, lexicon);

/** The text each match of `rule` covers in `text`. */
function matched(text: string, rule: string): string[] {
  return detect(text)
    .matches.filter((m) => m.rule === rule)
    .map((m) => text.slice(m.start, m.end));
}

describe("trade detector on the labelled corpus", () => {
  const corpus = loadCorpus(CORPUS);

  it("is a corpus of at least 300 Dutch and English messages of every kind", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    const count = (pred: (m: (typeof corpus)[number]) => boolean) => corpus.filter(pred).length;
    expect(count((m) => m.lang === "nl")).toBeGreaterThan(100);
    expect(count((m) => m.lang === "en")).toBeGreaterThan(50);
    for (const kind of ["offer", "request", "chat", "hard-negative"] as const) {
      expect(count((m) => m.kind === kind)).toBeGreaterThanOrEqual(50);
    }
    for (const m of corpus) expect(m.trade).toBe(m.kind === "offer" || m.kind === "request");
  });

  it("keeps the held-out messages apart from the tuning corpus", () => {
    const holdout = loadCorpus(HOLDOUT);
    expect(holdout.length).toBeGreaterThanOrEqual(80);
    const tuned = new Set(corpus.map((m) => m.text.toLowerCase()));
    expect(holdout.filter((m) => tuned.has(m.text.toLowerCase()))).toEqual([]);
  });

  it("reaches precision ≥ 0.97 and recall ≥ 0.95", () => {
    const result = evaluateDetector(corpus, lexicon);
    const mistakes = result.mistakes.map(
      (m) => `${m.message.trade ? "missed" : "false alarm"}: ${m.message.text}`,
    );
    expect({
      precision: result.precision >= 0.97,
      recall: result.recall >= 0.95,
      mistakes,
    }).toMatchObject({
      precision: true,
      recall: true,
    });
  });
});

describe("trade detector explains itself", () => {
  it("lists the rules that fired and where", () => {
    const text = "5 cobra's voor €50, pb";
    const verdict = detect(text);
    expect(verdict.trade).toBe(true);
    expect(verdict.rules).toEqual(
      expect.arrayContaining([
        "item:fireworks",
        "price",
        "quantity",
        "price+quantity",
        "handoff:app",
      ]),
    );
    expect(matched(text, "item:fireworks")).toEqual(["cobra's"]);
    expect(matched(text, "price")).toEqual(["€50"]);
    expect(matched(text, "handoff:app")).toEqual(["pb"]);
    expect(verdict.matches.find((m) => m.rule === "item:fireworks")?.term).toBe("cobra*");
  });

  it("orders rules by contribution and sums them into the score", () => {
    const verdict = detect("wie heeft cobra's?");
    expect(verdict.rules).toEqual(["item:fireworks", "intent:buy"]);
    expect(verdict.score).toBeCloseTo(
      (defaultLexicon.weights["item:fireworks"] ?? Number.NaN) +
        (defaultLexicon.weights["intent:buy"] ?? Number.NaN),
    );
  });

  it("reads prices with quantities in the ways sellers write them", () => {
    for (const text of [
      "€25 p/st",
      "10 voor 100",
      "3g 60",
      "8 euro per stuk",
      "cobra 6 10 stuks 90",
      "50,- per doos",
    ]) {
      expect(detect(text).rules, text).toContain("price+quantity");
    }
    expect(detect("10 voor 100").trade).toBe(true);
    expect(detect("Om 10 voor 12 verzamelen bij het plein").rules).not.toContain("price+quantity");
    expect(detect("de pizza was €12").rules).toEqual(["price"]);
  });

  it("finds phone numbers and handles", () => {
    for (const text of [
      "bel 06-12345678",
      "app 0612345678",
      "text +31 6 1234 5678",
      "06 12 34 56 78",
    ]) {
      expect(detect(text).rules, text).toContain("phone");
    }
    expect(detect("bel 112 bij brand").rules).not.toContain("phone");
    expect(detect("het kost 10 100 of 1000").rules).not.toContain("phone");
    expect(matched("wickr of @pyro_nl_020", "handle")).toEqual(["@pyro_nl_020"]);
    expect(detect("mail jan@example.com").rules).not.toContain("handle");
  });
});

describe("trade detector reads offers that name no price", () => {
  it.each([
    "DM for the price list",
    "pm voor prijzen",
    "menu in dm",
    "prijslijst op aanvraag",
    "cobra's binnen, prijs in dm",
  ])("price on request: %s", (text) => {
    const verdict = detect(text);
    expect(verdict.rules).toContain("price-on-request");
    expect(verdict.trade).toBe(true);
  });

  it("shows where the price was offered on request", () => {
    expect(matched("alles aanwezig, pm voor prijzen", "price-on-request")).toEqual([
      "pm voor prijzen",
    ]);
  });

  it("ends the clause at punctuation: a price in consultation is not a price list", () => {
    expect(detect("Ik verkoop mijn scooter, prijs in overleg. pb").rules).not.toContain(
      "price-on-request",
    );
  });
});

describe("trade detector leaves second-hand sales alone", () => {
  it("counts the shape of a sale only when goods these groups trade are named", () => {
    const machine = detect("Wasmachine te koop, 120 euro, ophalen in Delft, app me");
    expect(machine.trade).toBe(false);
    expect(machine.rules).not.toContain("intent:sell");
    expect(machine.rules).not.toContain("handoff:app");
    const cobras = detect("Cobra's te koop, 120 euro, ophalen in Delft, app me");
    expect(cobras.trade).toBe(true);
    expect(cobras.rules).toEqual(expect.arrayContaining(["intent:sell", "handoff:app"]));
  });

  it("takes one price via dm for a sale, a price list via dm for stock", () => {
    const ipad = detect("iPad te koop, prijs via dm, ophalen in Breda");
    expect(ipad.rules).toContain("price-on-request");
    expect(ipad.trade).toBe(false);
    expect(detect("prijslijst via dm, ophalen in Breda").trade).toBe(true);
  });

  it("does not take a decorating emoji for goods", () => {
    expect(detect("Laptop te koop 🔥 350 euro, dm").trade).toBe(false);
    expect(detect("❄️ te koop, dm").trade).toBe(true);
  });

  it("pairs a quantity with a price only within one clause", () => {
    expect(detect("Bosch 7kg, 120 euro").rules).not.toContain("price+quantity");
    expect(detect("3g 60").rules).toContain("price+quantity");
  });

  it.each([
    "Te koop: PS4 controller, werkt perfect, €20. Ophalen in Tilburg",
    "tk damesfiets 26 inch, 75 euro, ophalen Breda",
    "Selling 2 tickets for the game on sunday, face value, dm",
  ])("second-hand sale: %s", (text) => {
    expect(detect(text).trade).toBe(false);
  });
});

describe("trade detector sees through disguise", () => {
  const disguised = [
    "c o b r a 6 te koop",
    "c.o.b.r.a 6 te koop",
    "C-O-B-R-A 6 te koop",
    "c0bra's te koop",
    "c 0 b r a te koop",
    "co\u200bbra te koop",
    "\u200fc\u200eo\u200fb\u200er\u200fa te koop",
    "co\u2060bra\ufeff te koop",
    "ＣＯＢＲＡ te koop",
    "c\u043ebr\u0430 te koop",
    "𝐜𝐨𝐛𝐫𝐚 te koop",
  ];
  it.each(disguised)("%s", (text) => {
    const verdict = detect(text);
    expect(verdict.trade).toBe(true);
    expect(verdict.rules).toContain("item:fireworks");
    expect(verdict.rules).toContain("obfuscation");
  });

  it("does not call plain spelling a disguise", () => {
    for (const text of [
      "cobra te koop",
      "Cobra's te koop",
      "COBRA’S TE KOOP",
      "cobraaaa te koop",
    ]) {
      const verdict = detect(text);
      expect(verdict.rules, text).toContain("item:fireworks");
      expect(verdict.rules, text).not.toContain("obfuscation");
    }
  });

  it("ignores accents, casing and emoji variation selectors", () => {
    expect(detect("MORTIEREN TE KOOP").score).toBe(detect("mortieren te koop").score);
    expect(detect("cocaïne te koop").rules).toContain("item:drugs");
    expect(detect("🧨\ufe0f te koop").score).toBe(detect("🧨 te koop").score);
    expect(matched("❄️❄️ te koop", "emoji-code")).toEqual(["❄", "❄"]);
  });

  it("keeps a spaced-out sentence apart at wider gaps", () => {
    expect(matched("wie h e e f t  c o b r a 's", "item:fireworks")).toEqual(["c o b r a"]);
  });
});

describe("requests to buy are trade, talk around trade is not", () => {
  it.each([
    "wie heeft cobra's?",
    "zoek mortieren",
    "wtb shells",
    "looking for cobras in Utrecht",
    "iemand nog shells te koop?",
    "anyone got 🍃?",
  ])("request: %s", (text) => {
    expect(detect(text).trade).toBe(true);
  });

  it("needs something tradeable before asking counts", () => {
    expect(detect("zoek iemand om mee te gamen, dm me").trade).toBe(false);
    expect(detect("zoek iemand om mee te gamen, dm me").rules).not.toContain("intent:buy");
  });

  it.each([
    "pas op, die verkoper is een oplichter",
    "scammer alert",
    "Pas op, die verkoper van de cobra's is een oplichter, ik heb €50 via tikkie betaald",
    "De politie heeft deze groep overgenomen, niemand verkoopt hier nog cobra's",
    "Nieuws: politie neemt vier vuurwerkgroepen over met 9000 leden",
    "De gemeente verbiedt vuurwerk in het centrum",
    "Wanneer gaat de vuurwerkwinkel open?",
    "de pizza was €12",
    "Gelukkig nieuwjaar allemaal 🎆🎆",
    "het sneeuwt hier ❄️❄️",
  ])("hard negative: %s", (text) => {
    expect(detect(text).trade).toBe(false);
  });

  it("counts a warning against the score", () => {
    const offer = detect("cobra's te koop, tikkie vooraf");
    const warning = detect("pas op: cobra's te koop, tikkie vooraf, is een oplichter");
    expect(warning.rules).toContain("context:warning");
    expect(warning.score).toBeLessThan(offer.score);
  });

  it("reuses its scratch space without leaking state between messages", () => {
    const first = detect(
      "Alles op voorraad: cobra 6, cobra 8, shells, mortieren. Prijslijst via Signal",
    );
    expect(first.rules).toContain("list");
    const next = detect("hoi");
    expect(next).toEqual({ trade: false, score: 0, rules: [], matches: [] });
    expect(
      detect("Alles op voorraad: cobra 6, cobra 8, shells, mortieren. Prijslijst via Signal"),
    ).toEqual(first);
  });
});
