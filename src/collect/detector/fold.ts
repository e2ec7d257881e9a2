/**
 * Folds one non-ASCII code point to what a reader sees: `é` → `e`, `Ｃ` → `c`,
 * Cyrillic `а` → `a`, zero-width and direction marks → nothing, `❄️` → `❄`.
 * Sellers use exactly these tricks to slip past keyword filters, so a
 * disguising fold (homoglyph, fullwidth, mathematical letters) is reported as
 * such: the detector treats disguise itself as evidence.
 *
 * Results are cached per code point; the cache is bounded because a hostile
 * chat can send every code point there is.
 */

export const SEPARATOR = 0;
export const LETTER = 1;
export const DIGIT = 2;
export const EMOJI = 3;
export const SYMBOL = 4;
/** Zero-width, direction and variation characters: dropped, and suspicious inside a word. */
export const INVISIBLE = 5;
/** Combining marks (accents written separately): dropped silently. */
export const MARK = 6;

export interface Folded {
  readonly kind: number;
  /** Lowercase ASCII (or the emoji / symbol itself); empty for INVISIBLE and MARK. */
  readonly text: string;
  /** The fold replaced a look-alike from another script or a styled form. */
  readonly disguised: boolean;
  /** For separators: whether it ends a phrase (punctuation), as opposed to a space. */
  readonly hard: boolean;
}

/** Look-alikes NFKD does not resolve, and Latin letters without a decomposition. */
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ј: "j",
  ԁ: "d",
  ɡ: "g",
  α: "a",
  β: "b",
  ε: "e",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  ω: "w",
  ß: "ss",
  æ: "ae",
  ø: "o",
  œ: "oe",
  ł: "l",
  đ: "d",
  ı: "i",
};

const CACHE_LIMIT = 4096;
const cache = new Map<number, Folded>();

const MARK_RE = /\p{M}/gu;
const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_MARK = /^\p{M}$/u;
const IS_EMOJI = /^\p{Extended_Pictographic}$/u;
const IS_CURRENCY = /^\p{Sc}$/u;
const IS_SPACE = /^\p{Zs}$/u;
const ASCII_WORD = /^[a-z0-9]+$/;

function isInvisible(cp: number): boolean {
  return (
    cp === 0x00ad ||
    cp === 0x034f ||
    cp === 0x061c ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x17b4 ||
    cp === 0x17b5 ||
    (cp >= 0x180b && cp <= 0x180f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0x20e3 ||
    cp === 0x3164 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff ||
    cp === 0xffa0 ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0000 && cp <= 0xe0fff)
  );
}

function compute(cp: number): Folded {
  if (isInvisible(cp)) return { kind: INVISIBLE, text: "", disguised: true, hard: false };
  const ch = String.fromCodePoint(cp);
  if (IS_MARK.test(ch)) return { kind: MARK, text: "", disguised: false, hard: false };
  // Regional indicators make flags (🇵🇱 is two of them); keep each as an emoji.
  if (IS_EMOJI.test(ch) || (cp >= 0x1f1e6 && cp <= 0x1f1ff)) {
    return { kind: EMOJI, text: ch, disguised: false, hard: false };
  }
  if (IS_CURRENCY.test(ch)) return { kind: SYMBOL, text: ch, disguised: false, hard: false };
  if (IS_LETTER.test(ch) || IS_NUMBER.test(ch)) {
    const lower = ch.normalize("NFKD").replace(MARK_RE, "").toLowerCase();
    let text = "";
    for (const c of lower) text += CONFUSABLES[c] ?? c;
    if (text === "") return { kind: MARK, text: "", disguised: false, hard: false };
    const ascii = ASCII_WORD.test(text);
    // Latin letters with accents are ordinary Dutch; a Latin letter reached from
    // another script or a styled block (fullwidth, 𝐛𝐨𝐥𝐝) is a disguise.
    const disguised = ascii && cp >= 0x0370;
    const digit = ascii && text.charCodeAt(0) >= 48 && text.charCodeAt(0) <= 57;
    return { kind: digit ? DIGIT : LETTER, text, disguised, hard: false };
  }
  return { kind: SEPARATOR, text: "", disguised: false, hard: !IS_SPACE.test(ch) };
}

export function foldCodePoint(cp: number): Folded {
  let folded = cache.get(cp);
  if (folded === undefined) {
    folded = compute(cp);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(cp, folded);
  }
  return folded;
}
