/**
 * The key registry (src/store/layout/): each shape is declared once, the
 * builders and the key scanner agree on every shape, the migration marks are
 * complete, Lua scripts splice the same keys the builders build, and the
 * README's key table is the one the registry writes.
 */
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectKeys, keys, scenarioKeys } from "../../src/store/keys.ts";
import { buildKey } from "../../src/store/layout/builders.ts";
import { shapeOfKey } from "../../src/store/layout/match.ts";
import { SHAPES } from "../../src/store/layout/registry.ts";
import { compilePattern, HOLES } from "../../src/store/layout/shape.ts";
import { keyTableMarkdown, TABLE_END, TABLE_START } from "../../src/store/layout/table.ts";
import { migrationProblems } from "../../src/store/migrate-chat.ts";
import { undeclaredKeys } from "../helpers/keys.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/** A value of each kind of hole, with the characters each kind allows. */
const SAMPLE = { int: -1001234567890, nat: 4242, name: "fw1-3fa9", text: "scn:fw1-3fa9:hold" };

function sampleValues(pattern: string): Record<string, string | number> {
  return Object.fromEntries(
    compilePattern(pattern).holes.map((hole) => [hole, SAMPLE[HOLES[hole].kind]]),
  );
}

let redis: Redis;
beforeAll(async () => {
  redis = new Redis(await freshRedisUrl());
});
afterAll(() => {
  redis.disconnect();
});

describe("the key registry", () => {
  it("declares each key shape once", () => {
    const keysOf = SHAPES.map((s) => `${s.scope}:${s.pattern}`);
    expect(keysOf.filter((k, i) => keysOf.indexOf(k) !== i)).toEqual([]);
  });

  it("reads every built key back as the shape it was built from, with its holes", () => {
    for (const shape of SHAPES) {
      const values = sampleValues(shape.pattern);
      const key = buildKey(shape, "op-fw", values);
      expect(shapeOfKey(key), key).toMatchObject({ shape: { id: shape.id }, holes: values });
    }
    expect(shapeOfKey("warden:{op-fw}:chat:-100:msgs:old")).toBeUndefined();
    expect(shapeOfKey("warden:{Op Fw}:meta")).toBeUndefined();
  });

  it("builds keys with typed builders, under the case's hash tag, and refuses a case id that is no slug", () => {
    expect(collectKeys.messageVersions("op-fw", -100123, 7)).toBe(
      "warden:{op-fw}:chat:-100123:msg:7:versions",
    );
    expect(scenarioKeys.ladder("op-fw", "fw1-3fa9", "offers", 42)).toBe(
      "warden:{op-fw}:scenario:run:fw1-3fa9:ladder:offers:42",
    );
    expect(keys.chatIndex()).toBe("warden:global:chats");
    expect(() => keys.caseMeta("op{fw}")).toThrow(/not a slug: use 1-64 lower-case letters/);
  });

  it("says what a supergroup upgrade does to every shape that names a chat, and does it", () => {
    expect(migrationProblems()).toEqual([]);
    const broken = SHAPES.map((s) =>
      s.id === "collect.messages"
        ? { ...s, migration: undefined }
        : s.id === "collect.erased"
          ? { ...s, migration: "rewritten" as const }
          : s,
    );
    expect(migrationProblems(broken)).toEqual([
      "collect.messages names a chat but does not say what a supergroup upgrade does to it",
      "collect.erased is marked rewritten, but src/store/migrate-chat.ts has no rewrite for it",
    ]);
  });

  it("finds keys that no shape declares, and keys of another type than declared", async () => {
    await redis.hset(keys.caseMeta("op-scan"), "record", "{}");
    await redis.set("warden:{op-scan}:stray", "1");
    await redis.sadd(collectKeys.lexicon("op-scan"), "a set");
    expect(await undeclaredKeys(redis)).toEqual([
      "warden:{op-scan}:lexicon: a set, but collect.lexicon declares a string",
      "warden:{op-scan}:stray (string): declared by no shape",
    ]);
  });

  it("is the key table of README.md (run: npx tsx scripts/generate-key-table.ts)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END) + TABLE_END.length;
    expect(start, "README.md has lost its key table's markers").toBeGreaterThan(0);
    expect(readme.slice(start, end), "run: npx tsx scripts/generate-key-table.ts").toBe(
      keyTableMarkdown(),
    );
  });
});
