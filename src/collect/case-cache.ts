import type { Logger } from "pino";
import { type CaseRecord, getCase } from "../store/cases.ts";
import { keys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";
import { type CompiledLexicon, compileLexicon } from "./detector/compile.ts";
import { detectTrade, type TradeVerdict } from "./detector/detect.ts";
import { defaultLexicon } from "./lexicon/default.ts";
import { mergeLexicon } from "./lexicon/merge.ts";
import { parseLexiconOverride } from "./lexicon/parse.ts";
import { caseLexiconKey } from "./lexicon/store.ts";
import { keptCategories } from "./minimise.ts";

/**
 * What the recorder needs to know about a case for every update — which case
 * a chat belongs to, what the case keeps, its compiled trade lexicon — cached
 * for a short time. Without it each update would cost two more round trips
 * to Redis; with it a change (a new lexicon, `warden case collection`) takes
 * effect within `ttlMs`. A chat's case is cached only once found: a chat
 * seized a moment ago is never mistaken for one that is not.
 */

export interface CaseSettings {
  record: CaseRecord;
  keep: Set<string>;
  detect: (text: string) => TradeVerdict;
}

export interface CaseCache {
  caseOfChat(chatId: number): Promise<string | undefined>;
  settings(caseId: string): Promise<CaseSettings | undefined>;
  /** What is cached and fresh, without waiting: the recorder's path for almost every update. */
  cachedCaseOfChat(chatId: number): string | undefined;
  cachedSettings(caseId: string): CaseSettings | undefined;
  /** Every case id (for private messages, which belong to no chat of a case). */
  caseIds(): Promise<string[]>;
  /** Forgets what is cached, e.g. after this process changed a case. */
  invalidate(): void;
}

interface Timed<T> {
  value: T;
  at: number;
}

let defaultCompiled: CompiledLexicon | undefined;

function compiledDefault(): CompiledLexicon {
  defaultCompiled ??= compileLexicon(defaultLexicon);
  return defaultCompiled;
}

export function createCaseCache(
  redis: Redis,
  opts: { ttlMs?: number; logger?: Logger; now?: () => number } = {},
): CaseCache {
  const ttlMs = opts.ttlMs ?? 2000;
  const now = opts.now ?? Date.now;
  const chats = new Map<number, Timed<string>>();
  const settings = new Map<string, Timed<CaseSettings | undefined>>();
  const loading = new Map<string, Promise<CaseSettings | undefined>>();
  // The lexicon text each case's compiled lexicon was built from: recompiled only when it changes.
  const lexicons = new Map<string, { raw: string | null; compiled: CompiledLexicon }>();
  let ids: Timed<string[]> | undefined;

  function compiledFor(caseId: string, raw: string | null): CompiledLexicon {
    const cached = lexicons.get(caseId);
    if (cached && cached.raw === raw) return cached.compiled;
    let compiled = compiledDefault();
    if (raw) {
      try {
        compiled = compileLexicon(
          mergeLexicon(defaultLexicon, parseLexiconOverride(raw, `the lexicon of case ${caseId}`)),
        );
      } catch (err) {
        opts.logger?.error(
          { case: caseId, err: (err as Error).message },
          "the case's lexicon is not valid: detecting with the shipped default until it is fixed",
        );
      }
    }
    lexicons.set(caseId, { raw, compiled });
    return compiled;
  }

  async function load(caseId: string): Promise<CaseSettings | undefined> {
    const [record, raw] = await Promise.all([
      getCase(redis, caseId),
      redis.get(caseLexiconKey(caseId)),
    ]);
    if (!record) return undefined;
    const compiled = compiledFor(caseId, raw);
    return {
      record,
      keep: keptCategories(record),
      detect: (text) => detectTrade(text, compiled),
    };
  }

  return {
    cachedCaseOfChat(chatId) {
      const hit = chats.get(chatId);
      return hit && now() - hit.at < ttlMs ? hit.value : undefined;
    },
    cachedSettings(caseId) {
      const hit = settings.get(caseId);
      return hit && now() - hit.at < ttlMs ? hit.value : undefined;
    },
    async caseOfChat(chatId) {
      const hit = chats.get(chatId);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      const caseId = (await redis.hget(keys.chatIndex(), String(chatId))) ?? undefined;
      if (caseId) chats.set(chatId, { value: caseId, at: now() });
      else chats.delete(chatId);
      return caseId;
    },
    async settings(caseId) {
      const hit = settings.get(caseId);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      let pending = loading.get(caseId);
      if (!pending) {
        pending = load(caseId).finally(() => loading.delete(caseId));
        loading.set(caseId, pending);
      }
      const value = await pending;
      settings.set(caseId, { value, at: now() });
      return value;
    },
    async caseIds() {
      if (ids && now() - ids.at < ttlMs) return ids.value;
      const value = (await redis.smembers(keys.caseIndex())).sort();
      ids = { value, at: now() };
      return value;
    },
    invalidate() {
      chats.clear();
      settings.clear();
      ids = undefined;
    },
  };
}
