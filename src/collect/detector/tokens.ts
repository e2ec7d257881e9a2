import {
  DIGIT,
  EMOJI as EMOJI_CHAR,
  foldCodePoint,
  INVISIBLE,
  LETTER,
  MARK,
  SYMBOL,
} from "./fold.ts";

/**
 * Splits a message into tokens as a reader would see them, undoing the
 * tricks used against keyword filters: `C0bra` → `cobra`, `c o b r a` →
 * `cobra`, zero-width characters and direction marks dropped, look-alike
 * letters folded, `cobraaaa` → `cobra`. Letters and digits are split where
 * they meet (`3g` → `3` `g`, `cobra8` → `cobra` `8`) unless the digits sit
 * inside a word as leet-speak.
 *
 * Lexicon terms go through the same function, so a term and a message
 * always meet in the same form. The buffer is reused between messages to
 * keep detection allocation-light.
 */

export const WORD = 0;
export const NUMBER = 1;
export const EMOJI = 2;
/** Currency signs and `@ = + /`, which carry meaning in prices and hand-offs. */
export const SYMBOL_TOKEN = 3;
/** `@username`; the text excludes the `@`. */
export const HANDLE = 4;

/** The token was written in disguise (leet, spaced letters, homoglyphs, hidden characters). */
export const DISGUISED = 1;
/** A number written as a price, `50,-`. */
export const PRICE_SUFFIX = 2;
/** Punctuation (not just spaces) separates this token from the previous one. */
export const HARD_GAP = 4;

export class TokenBuffer {
  count = 0;
  readonly kind: number[] = [];
  readonly text: string[] = [];
  /** Offsets into the original message (UTF-16 units), end exclusive. */
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly flags: number[] = [];
  /** Characters between the previous token and this one. */
  readonly gap: number[] = [];

  reset(): void {
    this.count = 0;
  }

  push(kind: number, text: string, start: number, end: number, flags: number): void {
    const i = this.count++;
    const prevEnd = i > 0 ? (this.end[i - 1] as number) : start;
    this.kind[i] = kind;
    this.text[i] = text;
    this.start[i] = start;
    this.end[i] = end;
    this.flags[i] = flags;
    this.gap[i] = Math.max(0, start - prevEnd);
  }
}

// ASCII classes.
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const NUM = 3;
const ascii = new Uint8Array(128);
for (let c = 97; c <= 122; c++) ascii[c] = LOWER;
for (let c = 65; c <= 90; c++) ascii[c] = UPPER;
for (let c = 48; c <= 57; c++) ascii[c] = NUM;
const hardAscii = new Uint8Array(128);
for (const ch of '\n\r,;!?|:()[]{}<>"*#') hardAscii[ch.charCodeAt(0)] = 1;

/** Symbols read as letters inside a word (`c@ke`, `p!llen`). */
const leetSymbol = new Uint8Array(128);
for (const ch of "@$!|") leetSymbol[ch.charCodeAt(0)] = 1;

const LEET: Readonly<Record<string, string>> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "7": "t",
  "@": "a",
  $: "s",
  "!": "i",
  "|": "l",
};

function isAsciiAlnum(c: number): boolean {
  return c < 128 && ascii[c] !== OTHER;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether the code point at `i` would continue a word (letter or digit, after folding). */
function wordCharAt(text: string, i: number): boolean {
  if (i >= text.length) return false;
  const c = text.charCodeAt(i);
  if (c < 128) return ascii[c] !== OTHER;
  const kind = foldCodePoint(text.codePointAt(i) as number).kind;
  return kind === LETTER || kind === DIGIT;
}

/** Tokenizes `text` into `out` (which is reset first). */
export function scan(text: string, out: TokenBuffer): void {
  out.reset();
  const n = text.length;
  let hard = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (ascii[c] !== OTHER) {
        i = scanRun(text, i, out, hard);
        hard = false;
        continue;
      }
      if (c === 64 /* @ */) {
        i = scanAt(text, i, out, hard);
        hard = false;
        continue;
      }
      if (c === 36 /* $ */ || c === 61 /* = */ || c === 43 /* + */ || c === 47 /* / */) {
        out.push(SYMBOL_TOKEN, text[i] as string, i, i + 1, hard ? HARD_GAP : 0);
        hard = false;
        i++;
        continue;
      }
      if (hardAscii[c]) hard = true;
      i++;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    const size = cp > 0xffff ? 2 : 1;
    const folded = foldCodePoint(cp);
    if (folded.kind === LETTER || folded.kind === DIGIT) {
      i = scanRun(text, i, out, hard);
      hard = false;
    } else if (folded.kind === EMOJI_CHAR || folded.kind === SYMBOL) {
      out.push(
        folded.kind === EMOJI_CHAR ? EMOJI : SYMBOL_TOKEN,
        folded.text,
        i,
        i + size,
        hard ? HARD_GAP : 0,
      );
      hard = false;
      i += size;
    } else {
      if (folded.hard) hard = true;
      i += size;
    }
  }
  joinSpacedLetters(out);
}

/** `@name` becomes a handle; a lone `@` (as in "5 @ 20") a symbol. */
function scanAt(text: string, i: number, out: TokenBuffer, hard: boolean): number {
  const flags = hard ? HARD_GAP : 0;
  const glued = i > 0 && isAsciiAlnum(text.charCodeAt(i - 1));
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (!(isAsciiAlnum(c) || c === 95)) break;
    j++;
  }
  if (!glued && j - i - 1 >= 3) {
    out.push(HANDLE, text.slice(i + 1, j).toLowerCase(), i, j, flags);
    return j;
  }
  out.push(SYMBOL_TOKEN, "@", i, i + 1, flags);
  return i + 1;
}

/**
 * A run of letters and digits. The fast path covers plain ASCII words, the
 * common case; anything unusual inside the run goes to the careful path.
 */
function scanRun(text: string, start: number, out: TokenBuffer, hard: boolean): number {
  const n = text.length;
  let i = start;
  let letters = 0;
  let digits = 0;
  let prev = -1;
  let repeat = 0;
  let fast = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 128 && ascii[c] !== OTHER) {
      const lower = ascii[c] === UPPER ? c | 0x20 : c;
      if (lower === prev && ascii[c] !== NUM) {
        if (++repeat >= 2) {
          fast = false;
          break;
        }
      } else repeat = 0;
      prev = lower;
      if (ascii[c] === NUM) digits++;
      else letters++;
      i++;
      continue;
    }
    if ((c === 44 || c === 46) && prev >= 48 && prev <= 57 && isDigitCode(text.charCodeAt(i + 1))) {
      prev = c;
      i++;
      continue;
    }
    // Something that may continue the word in disguise: go careful.
    if (c >= 128 || ((c === 39 || c === 96 || leetSymbol[c]) && wordCharAt(text, i + 1)))
      fast = false;
    break;
  }
  if (fast) {
    emitRun(text.slice(start, i).toLowerCase(), start, i, letters, digits, 0, true, out, hard);
    return finishNumber(text, i, out);
  }
  return scanRunCarefully(text, start, out, hard);
}

function scanRunCarefully(text: string, start: number, out: TokenBuffer, hard: boolean): number {
  const n = text.length;
  let i = start;
  let built = "";
  let letters = 0;
  let digits = 0;
  let flags = 0;
  let hidden = false;
  let last = "";
  let repeat = 0;
  let lastWasDigit = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    let piece: string;
    let digit = false;
    let size = 1;
    if (c < 128) {
      if (ascii[c] !== OTHER) {
        piece = ascii[c] === UPPER ? String.fromCharCode(c | 0x20) : (text[i] as string);
        digit = ascii[c] === NUM;
      } else if ((c === 44 || c === 46) && lastWasDigit && isDigitCode(text.charCodeAt(i + 1))) {
        piece = text[i] as string;
        digit = true;
      } else if ((c === 39 || c === 96) && letters > 0 && wordCharAt(text, i + 1)) {
        i++;
        continue;
      } else if (leetSymbol[c] && letters > 0 && wordCharAt(text, i + 1)) {
        piece = LEET[text[i] as string] as string;
        flags |= DISGUISED;
      } else break;
    } else {
      const cp = text.codePointAt(i) as number;
      size = cp > 0xffff ? 2 : 1;
      if (cp === 0x2019 && letters > 0 && wordCharAt(text, i + size)) {
        i += size;
        continue;
      }
      const folded = foldCodePoint(cp);
      if (folded.kind === INVISIBLE || folded.kind === MARK) {
        if (folded.kind === INVISIBLE) hidden = true;
        i += size;
        continue;
      }
      if (folded.kind !== LETTER && folded.kind !== DIGIT) break;
      piece = folded.text;
      digit = folded.kind === DIGIT;
      if (folded.disguised) flags |= DISGUISED;
    }
    if (hidden && built !== "") flags |= DISGUISED;
    hidden = false;
    if (!digit && piece === last) {
      // Stretched letters (`cobraaaa`): a third repeat and beyond is noise.
      if (++repeat >= 2) {
        if (repeat === 2) built = built.slice(0, -piece.length);
        i += size;
        continue;
      }
    } else repeat = 0;
    last = piece;
    lastWasDigit = digit;
    built += piece;
    if (digit) digits++;
    else letters++;
    i += size;
  }
  emitRun(built, start, i, letters, digits, flags, false, out, hard);
  return finishNumber(text, i, out);
}

/** `50,-` marks a price; the suffix is consumed. */
function finishNumber(text: string, i: number, out: TokenBuffer): number {
  const last = out.count - 1;
  if (out.kind[last] !== NUMBER || out.end[last] !== i) return i;
  const c = text.charCodeAt(i);
  const d = text.charCodeAt(i + 1);
  if ((c === 44 || c === 46) && (d === 45 || d === 0x2013 || d === 0x2014)) {
    out.flags[last] = (out.flags[last] as number) | PRICE_SUFFIX;
    out.end[last] = i + 2;
    return i + 2;
  }
  return i;
}

const LEETABLE = /^[013457]$/;

/**
 * Emits one run as tokens. Mixed runs are split at letter/digit boundaries,
 * except digits inside a word (`c0bra`, `sh3lls`), which are read as letters.
 * `exact` says whether run offsets map one to one onto the text.
 */
function emitRun(
  run: string,
  start: number,
  end: number,
  letters: number,
  digits: number,
  flags: number,
  exact: boolean,
  out: TokenBuffer,
  hard: boolean,
): void {
  const gapFlag = hard ? HARD_GAP : 0;
  if (digits === 0) {
    out.push(WORD, run, start, end, flags | gapFlag);
    return;
  }
  if (letters === 0) {
    out.push(NUMBER, run, start, end, flags | gapFlag);
    return;
  }
  // Groups of letters and of digits (with , . inside numbers).
  const groups: string[] = [];
  const isNum: boolean[] = [];
  let from = 0;
  for (let k = 1; k <= run.length; k++) {
    const prevDigit = isDigitish(run, k - 1);
    if (k === run.length || isDigitish(run, k) !== prevDigit) {
      groups.push(run.slice(from, k));
      isNum.push(prevDigit);
      from = k;
    }
  }
  // Interior leet digits join their neighbours into one word.
  const words: { text: string; number: boolean; disguised: boolean; offset: number }[] = [];
  let offset = 0;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as string;
    const num = isNum[g] as boolean;
    const prev = words[words.length - 1];
    const interior = num && g > 0 && g < groups.length - 1 && group.length <= 2 && isLeet(group);
    if (interior && prev && !prev.number) {
      prev.text += deleet(group);
      prev.disguised = true;
    } else if (!num && prev && !prev.number && g > 0) {
      prev.text += group;
    } else if (
      num &&
      g === groups.length - 1 &&
      prev?.disguised &&
      group.length === 1 &&
      isLeet(group)
    ) {
      prev.text += deleet(group);
    } else {
      words.push({ text: group, number: num, disguised: false, offset });
    }
    offset += group.length;
  }
  for (let w = 0; w < words.length; w++) {
    const word = words[w] as (typeof words)[number];
    const next = words[w + 1];
    const s = exact ? start + word.offset : start;
    const e = exact ? (next ? start + next.offset : end) : end;
    const f = (word.disguised ? flags | DISGUISED : flags) | (w === 0 ? gapFlag : 0);
    out.push(word.number ? NUMBER : WORD, word.text, s, e, f);
  }
}

function isDigitish(run: string, k: number): boolean {
  const c = run.charCodeAt(k);
  if (isDigitCode(c)) return true;
  return (c === 44 || c === 46) && k > 0 && isDigitCode(run.charCodeAt(k - 1));
}

function isLeet(group: string): boolean {
  for (const ch of group) if (!LEETABLE.test(ch)) return false;
  return true;
}

function deleet(group: string): string {
  let s = "";
  for (const ch of group) s += LEET[ch] ?? ch;
  return s;
}

/**
 * `c o b r a` and `c.o.b.r.a` → `cobra`: three or more one-letter words (or
 * leet digits between them) separated by a single space, dot or dash. A wider
 * gap ends the word, so `h e e f t  c o b r a` stays two words.
 */
function joinSpacedLetters(out: TokenBuffer): void {
  const n = out.count;
  let w = 0;
  let r = 0;
  while (r < n) {
    let runEnd = r;
    let text = single(out, r) && out.kind[r] === WORD ? (out.text[r] as string) : "";
    if (text !== "") {
      while (runEnd + 1 < n && single(out, runEnd + 1) && tight(out, runEnd + 1)) {
        const nextIsWord = out.kind[runEnd + 1] === WORD;
        if (
          !nextIsWord &&
          !(runEnd + 2 < n && out.kind[runEnd + 2] === WORD && single(out, runEnd + 2))
        )
          break;
        text += nextIsWord ? out.text[runEnd + 1] : deleet(out.text[runEnd + 1] as string);
        runEnd++;
      }
    }
    if (runEnd - r + 1 >= 3) {
      move(out, r, w);
      out.kind[w] = WORD;
      out.text[w] = text;
      out.end[w] = out.end[runEnd] as number;
      out.flags[w] = (out.flags[w] as number) | DISGUISED;
    } else if (w !== r) {
      for (let k = r; k <= runEnd; k++) move(out, k, w + (k - r));
    }
    w += runEnd - r + 1 >= 3 ? 1 : runEnd - r + 1;
    r = runEnd + 1;
  }
  out.count = w;
}

function single(out: TokenBuffer, i: number): boolean {
  const text = out.text[i] as string;
  if (text.length !== 1) return false;
  const kind = out.kind[i];
  return kind === WORD || (kind === NUMBER && LEETABLE.test(text));
}

function tight(out: TokenBuffer, i: number): boolean {
  return (out.gap[i] as number) <= 1 && ((out.flags[i] as number) & HARD_GAP) === 0;
}

function move(out: TokenBuffer, from: number, to: number): void {
  if (from === to) return;
  out.kind[to] = out.kind[from] as number;
  out.text[to] = out.text[from] as string;
  out.start[to] = out.start[from] as number;
  out.end[to] = out.end[from] as number;
  out.flags[to] = out.flags[from] as number;
  out.gap[to] = out.gap[from] as number;
}
