import {
  TAG_CURRENCY,
  TAG_HANDOFF,
  TAG_ITEM,
  TAG_ON_REQUEST,
  TAG_PER_UNIT,
  TAG_PRICE_CUE,
  TAG_PRICE_LINK,
  TAG_PRICE_LIST,
  TAG_PRICE_WORD,
  TAG_TERM,
  TAG_TIME,
  TAG_UNIT,
} from "./compile.ts";
import {
  HANDLE,
  HARD_GAP,
  NUMBER,
  PRICE_SUFFIX,
  SYMBOL_TOKEN,
  type TokenBuffer,
} from "./tokens.ts";

/**
 * Reads the shape of a trade from tagged tokens: a price (`€50`, `50 euro`,
 * `50,-`), a quantity (`20 stuks`, `3g`, `5 cobra's`), and the two together
 * (`10 voor 100`, `€25 p/st`, `3g 60`), plus phone numbers and @handles.
 * A price alone is small talk ("de pizza was €12"); price with quantity is
 * how offers are written. An offer that names no price says where to get
 * it instead: `pm voor prijzen`, `prijslijst op aanvraag`, `menu in dm`.
 */

export const PRICE = 1;
export const QUANTITY = 2;
export const PRICE_QUANTITY = 4;
export const PHONE = 8;
export const HANDLE_FOUND = 16;
export const PRICE_ON_REQUEST = 32;
/**
 * Not a scoring rule: the price on request is for a list (`prijslijst`,
 * `prijzen`, `menu`), which says there is stock, where `prijs via dm` is
 * also how one second-hand iPad is sold.
 */
export const LIST_ON_REQUEST = 64;

/** Tokens this close (in tokens) make one "5 cobra's … €50" offer. */
const PAIR_WINDOW = 8;

/** At most this many tokens between a price word and its hand-off: `dm for the price list`. */
const REQUEST_WINDOW = 3;

const ROLE_PRICE = 1;
const ROLE_QUANTITY = 2;

/** Where each finding is, reused between calls: read `count` entries. */
export class StructureSpans {
  count = 0;
  readonly rule: number[] = [];
  readonly start: number[] = [];
  readonly end: number[] = [];
}

const role: number[] = [];
let found = 0;
let spans: StructureSpans = new StructureSpans();

function note(rule: number, start: number, end: number): void {
  found |= rule;
  const k = spans.count++;
  spans.rule[k] = rule;
  spans.start[k] = start;
  spans.end[k] = end;
}

function flag(t: TokenBuffer, i: number, bit: number): boolean {
  return ((t.flags[i] as number) & bit) !== 0;
}

function tagged(tags: readonly number[], i: number, bit: number): boolean {
  return ((tags[i] ?? 0) & bit) !== 0;
}

/** A number that is not part of a term such as `cobra 6`. */
function freeNumber(t: TokenBuffer, tags: readonly number[], i: number): boolean {
  return i >= 0 && i < t.count && t.kind[i] === NUMBER && !tagged(tags, i, TAG_TERM);
}

/** Token `i` follows token `i - 1` without punctuation between them. */
function joined(t: TokenBuffer, i: number, maxGap: number): boolean {
  return i > 0 && i < t.count && !flag(t, i, HARD_GAP) && (t.gap[i] as number) <= maxGap;
}

function numberValue(text: string): number {
  return Number.parseFloat(text.replace(",", "."));
}

function isYear(text: string): boolean {
  const v = numberValue(text);
  return text.length === 4 && v >= 1900 && v <= 2100;
}

function isPriceAt(t: TokenBuffer, tags: readonly number[], i: number): boolean {
  if (flag(t, i, PRICE_SUFFIX)) return true;
  const before = i - 1;
  if (before >= 0 && tagged(tags, before, TAG_CURRENCY) && joined(t, i, 1)) return true;
  const after = i + 1;
  if (after < t.count && tagged(tags, after, TAG_CURRENCY)) {
    // `30e`, `20eu` only glued to the number; `30 euro` may have a space.
    const short = (t.text[after] as string).length <= 2 && t.kind[after] !== SYMBOL_TOKEN;
    if (joined(t, after, short ? 0 : 1)) return true;
  }
  return false;
}

function isQuantityAt(t: TokenBuffer, tags: readonly number[], i: number): boolean {
  const after = i + 1;
  if (after < t.count && tagged(tags, after, TAG_UNIT) && joined(t, after, 1)) return true;
  if (i > 0 && t.text[i - 1] === "x" && tagged(tags, i - 1, TAG_UNIT) && joined(t, i, 0))
    return true;
  if (isYear(t.text[i] as string)) return false;
  // `5 cobra's`, `10 zware cobra's`
  for (let k = after; k <= after + 1 && k < t.count; k++) {
    if (!joined(t, k, 2)) break;
    if (tagged(tags, k, TAG_ITEM)) return true;
  }
  return false;
}

/** `om 10 voor 12` is a time, not ten for twelve euro. */
function looksLikeTime(t: TokenBuffer, tags: readonly number[], a: number, b: number): boolean {
  if (a > 0 && tagged(tags, a - 1, TAG_TIME)) return true;
  const x = numberValue(t.text[a] as string);
  const y = numberValue(t.text[b] as string);
  return y <= 12 && x <= 30 && x % 5 === 0 && !isPriceAt(t, tags, b);
}

/** Returns the structure bits found and fills `into` with where they are. */
export function readStructure(
  t: TokenBuffer,
  tags: readonly number[],
  into: StructureSpans,
): number {
  const n = t.count;
  found = 0;
  spans = into;
  spans.count = 0;
  for (let i = 0; i < n; i++) role[i] = 0;

  for (let i = 0; i < n; i++) {
    if (t.kind[i] === HANDLE) note(HANDLE_FOUND, t.start[i] as number, t.end[i] as number);
    if (!freeNumber(t, tags, i)) continue;
    if (isPriceAt(t, tags, i)) role[i] = ROLE_PRICE;
    else if (isQuantityAt(t, tags, i)) role[i] = ROLE_QUANTITY;
  }

  for (let i = 0; i < n; i++) {
    if (!freeNumber(t, tags, i)) continue;
    const r = role[i] as number;
    const s = t.start[i] as number;
    const e = t.end[i] as number;

    // `€25 p/st`, `8 per stuk`, `7 euro per stuk`, `per gram 20`
    const unitAfter =
      (i + 1 < n && tagged(tags, i + 1, TAG_PER_UNIT) && joined(t, i + 1, 2)) ||
      (i + 2 < n &&
        tagged(tags, i + 1, TAG_CURRENCY) &&
        tagged(tags, i + 2, TAG_PER_UNIT) &&
        joined(t, i + 2, 2));
    const unitBefore = i > 0 && tagged(tags, i - 1, TAG_PER_UNIT) && joined(t, i, 2);
    if (r !== ROLE_QUANTITY && (unitAfter || unitBefore)) {
      role[i] = ROLE_PRICE;
      note(PRICE_QUANTITY, s, e);
    }

    // `samen 120`, `200 for all`
    if (
      role[i] === 0 &&
      ((i > 0 && tagged(tags, i - 1, TAG_PRICE_CUE) && joined(t, i, 2)) ||
        (i + 1 < n && tagged(tags, i + 1, TAG_PRICE_CUE) && joined(t, i + 1, 2)))
    ) {
      role[i] = ROLE_PRICE;
    }

    // `10 voor 100`, `10 stuks voor 100`, `5 cobra's for €50`
    if (role[i] !== ROLE_PRICE) {
      let k = i + 1;
      while (k < n && k <= i + 3 && tagged(tags, k, TAG_UNIT | TAG_ITEM) && joined(t, k, 2)) k++;
      if (k < n && tagged(tags, k, TAG_PRICE_LINK) && joined(t, k, 2)) {
        let b = k + 1;
        if (b < n && tagged(tags, b, TAG_CURRENCY) && t.kind[b] === SYMBOL_TOKEN) b++;
        if (freeNumber(t, tags, b) && joined(t, b, 2) && !looksLikeTime(t, tags, i, b)) {
          role[i] = ROLE_QUANTITY;
          role[b] = ROLE_PRICE;
          note(PRICE_QUANTITY, s, t.end[b] as number);
        }
      }
    }

    // `3g 60`, `10 stuks 90`
    if (role[i] === ROLE_QUANTITY) {
      let k = i + 1;
      while (k < n && tagged(tags, k, TAG_UNIT) && joined(t, k, 1)) k++;
      if (
        k > i + 1 &&
        freeNumber(t, tags, k) &&
        joined(t, k, 1) &&
        role[k] !== ROLE_QUANTITY &&
        !isYear(t.text[k] as string) &&
        !(k + 1 < n && tagged(tags, k + 1, TAG_UNIT) && joined(t, k + 1, 1))
      ) {
        role[k] = ROLE_PRICE;
        note(PRICE_QUANTITY, s, t.end[k] as number);
      }
    }
  }

  // A quantity and a price pair up only within one clause: in "Bosch 7kg,
  // 120 euro" the weight describes the washing machine, it is not sold by it.
  let lastPrice = -1000;
  let lastQuantity = -1000;
  let clause = 0;
  for (let i = 0; i < n; i++) {
    if (flag(t, i, HARD_GAP)) clause = i;
    const r = role[i];
    if (r === ROLE_PRICE) {
      // The span covers the currency written around the number: `€50`, `50 euro`.
      const from = i > 0 && tagged(tags, i - 1, TAG_CURRENCY) && joined(t, i, 1) ? i - 1 : i;
      const to = i + 1 < n && tagged(tags, i + 1, TAG_CURRENCY) && joined(t, i + 1, 1) ? i + 1 : i;
      note(PRICE, t.start[from] as number, t.end[to] as number);
      lastPrice = i;
      if (
        lastQuantity >= clause &&
        i - lastQuantity <= PAIR_WINDOW &&
        (found & PRICE_QUANTITY) === 0
      ) {
        note(PRICE_QUANTITY, t.start[lastQuantity] as number, t.end[i] as number);
      }
    } else if (r === ROLE_QUANTITY) {
      note(QUANTITY, t.start[i] as number, t.end[i] as number);
      lastQuantity = i;
      if (lastPrice >= clause && i - lastPrice <= PAIR_WINDOW && (found & PRICE_QUANTITY) === 0) {
        note(PRICE_QUANTITY, t.start[lastPrice] as number, t.end[i] as number);
      }
    }
  }

  findPhones(t, tags);
  findPriceOnRequest(t, tags);
  return found;
}

/**
 * A price word (`prijs`, `prijslijst`, `menu`) with a hand-off (`pm`,
 * `in dm`, `signal`) or a request phrase (`op aanvraag`) a few tokens before
 * or after it, within one clause: "pm voor prijzen", "prices in dm". A
 * punctuation mark in between ends the clause, so "prijs in overleg. pb"
 * (how a bicycle is sold) is not one. A list word found this way also sets
 * LIST_ON_REQUEST.
 */
function findPriceOnRequest(t: TokenBuffer, tags: readonly number[]): void {
  const n = t.count;
  const partner = TAG_HANDOFF | TAG_ON_REQUEST;
  const word = TAG_PRICE_WORD | TAG_PRICE_LIST;
  let noted = false;
  for (let i = 0; i < n; i++) {
    if (!tagged(tags, i, word)) continue;
    let from = -1;
    let to = -1;
    for (let k = i + 1; k < n && k <= i + REQUEST_WINDOW + 1 && !flag(t, k, HARD_GAP); k++) {
      if (tagged(tags, k, partner)) {
        from = i;
        to = k;
        break;
      }
    }
    for (
      let k = i - 1;
      from < 0 && k >= 0 && k >= i - REQUEST_WINDOW - 1 && !flag(t, k + 1, HARD_GAP);
      k--
    ) {
      if (tagged(tags, k, partner)) {
        from = k;
        to = i;
      }
    }
    if (from < 0) continue;
    if (!noted) note(PRICE_ON_REQUEST, t.start[from] as number, t.end[to] as number);
    noted = true;
    if (tagged(tags, i, TAG_PRICE_LIST)) {
      found |= LIST_ON_REQUEST;
      return;
    }
  }
}

const NL_NUMBER = /^0[1-9]\d{8}$/;
const INTERNATIONAL = /^(?:00)?(?:31[1-9]\d{8}|32\d{8,9}|49\d{9,11})$/;
const ANY_INTERNATIONAL = /^\d{10,13}$/;

/**
 * `06-12345678`, `06 12 34 56 78`, `+31 6 1234 5678`, `0 6 1 2 …`: digit
 * groups separated by at most a space, dash or dot, read as one number.
 */
function findPhones(t: TokenBuffer, tags: readonly number[]): void {
  const n = t.count;
  let i = 0;
  while (i < n) {
    if (!freeNumber(t, tags, i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && freeNumber(t, tags, j + 1) && joined(t, j + 1, 2)) j++;
    const plus = i > 0 && t.text[i - 1] === "+" && t.kind[i - 1] === SYMBOL_TOKEN;
    for (let a = i; a <= j; a++) {
      let digits = "";
      for (let b = a; b <= j; b++) {
        digits += (t.text[b] as string).replace(/[.,]/g, "");
        if (digits.length > 13) break;
        if (digits.length < 10) continue;
        const international = (plus && a === i) || digits.startsWith("00");
        if (
          NL_NUMBER.test(digits) ||
          INTERNATIONAL.test(digits) ||
          (international && ANY_INTERNATIONAL.test(digits.replace(/^00/, "")))
        ) {
          note(PHONE, t.start[plus && a === i ? i - 1 : a] as number, t.end[b] as number);
          return;
        }
      }
    }
    i = j + 1;
  }
}
