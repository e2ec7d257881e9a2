/**
 * Worlds for scenario authors: the world schema editors use is generated from
 * the one `warden world lint` and `warden rehearse` check with, and holds the
 * simulator's fields; the shipped worlds point editors at it and lint clean;
 * `warden world lint` reports every problem at its line and column with a
 * hint (times explained in seconds, names checked against what the world
 * defines); `warden rehearse` refuses a broken world before anything starts,
 * and its transcript names the world first, saying why it was chosen.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { worldFileSchema, worldJsonSchema } from "../../src/cli/world-file.ts";
import { lintWorldFile } from "../../src/cli/world-lint.ts";
import { loadWorld } from "../../src/sim/index.ts";
import { WorldSchema } from "../../src/sim/world/load.ts";
import { runWarden } from "../helpers/cli.ts";

const worlds = fileURLToPath(new URL("../../scenarios/worlds/", import.meta.url));
const shipped = readdirSync(worlds).filter((f) => f.endsWith(".yaml"));
const scratch = mkdtempSync(join(tmpdir(), "warden-worlds-"));

/** The object schemas of a world, level by level, as key lists (unwrapping lists, unions, optionals). */
function fieldsOf(schema: z.ZodType, depth = 0): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const visit = (s: z.ZodType, at: string) => {
    const def = (s as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    switch (def.type) {
      case "optional":
      case "default":
        return visit(def.innerType as z.ZodType, at);
      case "array":
        return visit(def.element as z.ZodType, at);
      case "union":
        for (const o of def.options as z.ZodType[]) visit(o, at);
        return;
      case "object": {
        const shape = def.shape as Record<string, z.ZodType>;
        out[at] = [...new Set([...(out[at] ?? []), ...Object.keys(shape)])].sort();
        if (depth < 6) for (const [k, v] of Object.entries(shape)) visit(v, `${at}.${k}`);
        return;
      }
    }
  };
  visit(schema, "world");
  return out;
}

describe("scenarios/worlds/schema.json", () => {
  it("is what scripts/generate-world-schema.ts writes from the world schema", () => {
    const committed = readFileSync(join(worlds, "schema.json"), "utf8");
    expect(committed, "run: npx tsx scripts/generate-world-schema.ts").toBe(worldJsonSchema());
  });

  it("has the simulator's fields, and only the title, description and rehearsal section besides", () => {
    const ours = fieldsOf(worldFileSchema);
    const sims = fieldsOf(WorldSchema);
    for (const [where, keys] of Object.entries(sims))
      expect(ours[where], where).toEqual(
        where === "world" ? [...keys, "description", "rehearsal", "title"].sort() : keys,
      );
  });
});

describe("shipped worlds", () => {
  it.each(shipped)(
    "%s points editors at the schema, lints clean and loads in the simulator",
    async (name) => {
      const text = readFileSync(join(worlds, name), "utf8");
      expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema.json");
      expect(await lintWorldFile(join(worlds, name))).toEqual([]);
      expect(() => loadWorld(text)).not.toThrow();
    },
  );
});

const BROKEN = [
  "start: 2027-03-05T20:00:00Z",
  "users:",
  "  - { key: owner, first_name: Dennis }",
  "  - { key: rick, first_name: Rick, username: rick_010 }",
  "  - { key: officer, first_name: Duty }",
  "bots:",
  "  - { key: warden, username: warden_bot }",
  "chats:",
  "  - key: market",
  "    type: supergroup",
  "    title: Markt",
  "    owner: owner",
  "    members:",
  "      - { user: warden, status: administrator, rights: all }",
  "      - { user: rick }",
  "      - { user: ricky }",
  "timeline:",
  '  - { at: 1h, chat: market, from: rick, text: "wiet 10 euro" }',
  '  - { at: 600, chat: markt, from: rick, text: "x" }',
  '  - { at: 700, chat: market, from: rick, text: "y", reply_to: nope }',
  "rehearsal:",
  "  operator: officer",
  "  supervisor: officer",
  "  seize: { market: dm1 }",
  "  script:",
  '    - { at: 600, private: mike, text: "hallo" }',
  "    - { at: 600, presss: rick, button: Koper }",
  "",
].join("\n");

describe("warden world lint", () => {
  it("reports every problem at its line and column, with a hint, and exits 1", async () => {
    const dir = join(scratch, "lint");
    mkdirSync(dir);
    const file = join(dir, "broken.yaml");
    writeFileSync(file, BROKEN);
    writeFileSync(join(dir, "schema.json"), "{}\n");
    const result = await runWarden(["world", "lint", dir]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toEqual([
      `${file}:16:17: error: member: no one in this world is called "ricky" (hint: did you mean "rick"?)`,
      `${file}:18:11: error: expected number, got string "1h" (hint: at: counts seconds after the world's start (start:): write 3600 for 1h)`,
      `${file}:19:22: error: chat: no chat in this world is called "markt" (hint: did you mean "market"?)`,
      `${file}:20:63: error: reply_to "nope": no earlier message has this label (hint: give the message it answers label: nope (it must come before this one))`,
      `${file}:23:15: error: the supervisor is the operator: Warden lets nobody approve their own request (hint: name two different users)`,
      `${file}:26:27: error: private: no one in this world is called "mike" (hint: use the key of someone under users: (owner, rick, officer, warden))`,
      `${file}:27:18: error: unknown action "presss" (hint: did you mean "press"?)`,
      "1 file: 7 errors, 0 warnings",
    ]);
  });

  it("checks topics and albums: forums only, topics that exist by then, items that make an album", async () => {
    const dir = join(scratch, "forum");
    mkdirSync(dir);
    const file = join(dir, "forum.yaml");
    writeFileSync(
      file,
      [
        "users:",
        "  - { key: owner, first_name: Ronald }",
        "  - { key: bas, first_name: Bas }",
        "bots:",
        "  - { key: warden, username: warden_bot }",
        "chats:",
        "  - key: forum",
        "    type: supergroup",
        "    title: Forum",
        "    owner: owner",
        "    is_forum: true",
        "    topics: [{ name: Verkoop }, { name: Vraag }]",
        "    members: [{ user: bas }]",
        "  - key: plain",
        "    type: supergroup",
        "    title: Plain",
        "    owner: owner",
        "    topics: [{ name: Verkoop }]",
        "timeline:",
        "  - { at: 10, chat: forum, from: bas, topic: Verkop, text: a }",
        "  - { at: 20, chat: forum, from: bas, topic: Eigen, text: b }",
        "  - { at: 30, chat: forum, from: bas, new_topic: { name: Eigen } }",
        "  - { at: 40, chat: forum, from: bas, topic: Eigen, text: c, album: [{ photo: true }, { photo: true }] }",
        "  - { at: 50, chat: forum, from: bas, album: [{ document: true }, { photo: true, video: true }], delivery_order: [0, 0] }",
        "  - { at: 60, chat: plain, from: owner, new_topic: { name: X } }",
        "",
      ].join("\n"),
    );
    const problems = (await lintWorldFile(file)).map(
      (p) => `${p.line}:${p.column}: ${p.severity}: ${p.message} (hint: ${p.hint})`,
    );
    expect(problems).toEqual([
      "18:5: error: plain has topics but is not a forum (hint: add is_forum: true to the chat)",
      '20:46: error: forum has no topic "Verkop" at this point (hint: did you mean "Verkoop"?)',
      '21:46: error: forum has no topic "Eigen" at this point (hint: declare it under topics: of forum (or open it earlier with new_topic:))',
      "23:53: error: an album carries its files and captions in its items, not in text: (hint: move it into an item of album:)",
      "24:39: error: documents can't be mixed with photos or videos in one album (Telegram refuses it) (hint: send the documents as an album of their own)",
      "24:67: error: each album item is one photo, video or document (hint: give the item exactly one of photo:, video: or document:)",
      "24:114: error: delivery_order must list each item index from 0 to 1 once (hint: for example [1, 0], or write reversed)",
      "25:41: error: plain is not a forum, so no one can open a topic in it (hint: add is_forum: true to plain)",
    ]);
  });

  it("passes the shipped worlds", async () => {
    const result = await runWarden(["world", "lint", "scenarios/worlds/"]);
    expect(result.stdout).toMatch(/^\d+ files: 0 errors, 0 warnings$/m);
    expect(result.code).toBe(0);
  });
});

describe("warden rehearse and its world", () => {
  it("stops at once with the linter's lines when the world is broken", async () => {
    const file = join(scratch, "broken-world.yaml");
    writeFileSync(file, BROKEN);
    const result = await runWarden(
      ["rehearse", "fireworks-takeover", "--world", file, "--fast", "--no-rate-limits"],
      { WARDEN_DATA_DIR: mkdtempSync(join(tmpdir(), "warden-cli-")) },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("Rehearsing");
    expect(result.stderr).toContain(`warden: ${file} has 7 problems:`);
    expect(result.stderr).toContain(
      `${file}:26:27: error: private: no one in this world is called "mike"`,
    );
    expect(result.stderr).toContain(`run \`warden world lint ${file}\` after fixing them`);
  });
});
