import canonicalize from "canonicalize";
import RedisMock from "ioredis-mock";
import { describe, expect, it } from "vitest";
import { canonicalBytes } from "../../src/audit/entry.ts";
import { leafHash, leafHashHex } from "../../src/audit/merkle.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { freshLog, info, verifierOf } from "./helpers.ts";

/**
 * The append path's cheaper encodings: keys sorted without Array.sort, leaves
 * hashed from a reused buffer, and a batch's leaves, intent tags and payloads
 * each sent to the script as one argument.
 */

describe("canonical bytes of objects with many keys", () => {
  it("orders keys of every count as the canonicalize reference does", () => {
    const names = ["b", "a", "é", "Z", "aa", "a_b", "ab", "\u{1F600}", "ä", "_", "A", "z", "zz"];
    for (let count = 0; count <= 40; count++) {
      const value: Record<string, unknown> = {};
      for (let k = count - 1; k >= 0; k--) {
        const name = `${names[(k * 7) % names.length]}${k}`;
        value[name] = k % 3 === 0 ? { [`${name}y`]: k, [`${name}x`]: [k, { b: 1, a: 2 }] } : k;
      }
      expect(canonicalBytes(value)).toBe(canonicalize(value));
    }
  });

  it("copies an object whose keys are in order but whose members are not", () => {
    const inner = { z: 1, a: { y: [{ d: 1, c: 2 }], b: null } };
    const value = { a: inner, b: "x", [Symbol("s")]: 1, c: [inner, { b: 2, a: 1 }] };
    expect(canonicalBytes(value)).toBe(canonicalize(value));
    expect(canonicalBytes(value)).toBe(
      '{"a":{"a":{"b":null,"y":[{"c":2,"d":1}]},"z":1},"b":"x","c":[{"a":{"b":null,"y":[{"c":2,"d":1}]},"z":1},{"a":1,"b":2}]}',
    );
    // The value itself is left as it was.
    expect(Object.keys(inner)).toEqual(["z", "a"]);
  });
});

describe("leaf hashes from the reused buffer", () => {
  it("equal SHA-256(0x00 ‖ UTF-8) for ASCII, multi-byte, lone surrogates and long entries", () => {
    const texts = [
      "",
      '{"a":1}',
      "selling ⚡ fireworks, 花火, Größe",
      "lone \ud800 surrogate \udfff",
      "pair \u{1F600}",
      "x".repeat(4094),
      "y".repeat(4096),
      "é".repeat(10_000),
      "z".repeat(30_000),
    ];
    for (const text of texts) {
      expect(leafHashHex(text)).toBe(leafHash(text).toString("hex"));
      // The buffer is reused: a shorter entry after a longer one must not see its tail.
      expect(leafHashHex(text.slice(0, 3))).toBe(leafHash(text.slice(0, 3)).toString("hex"));
    }
  });
});

describe("a batch's payloads, leaves and tags as one argument each", () => {
  const tricky = (caseId: string, i: number) =>
    info(caseId, i % 2 ? "collect" : "warn", {
      text: `line one\nline two, with a comma\r\n\t"quoted" \\ ${i}`,
      emoji: "⚡🎆",
      nested: { z: 1, a: [",", "\n", { y: "-", b: "o" }] },
    });

  it("stores every payload byte for byte and keeps intents open and closed right", async () => {
    const { log, redis, signer } = await freshLog();
    const entries = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => log.record(tricky("enc", i))),
      log.record({
        case: "enc",
        actor: { kind: "system" },
        op: "chat.restrict",
        phase: "intent",
        target: { chat_id: -100 },
      }),
    ]);
    const intent = entries[entries.length - 1];
    await log.record({
      case: "enc",
      actor: { kind: "system" },
      op: "chat.restrict",
      phase: "outcome",
      intent_seq: intent?.seq,
      result: { ok: true },
    });
    const open = await log.record({
      case: "enc",
      actor: { kind: "system" },
      op: "ban",
      phase: "intent",
    });
    await log.close();
    for (const entry of entries) {
      expect(await redis.hget(auditKeys.payloads("enc"), String(entry.seq))).toBe(
        canonicalBytes(entry),
      );
    }
    expect(await redis.hgetall(auditKeys.openIntents("enc"))).toEqual({ [open.seq]: "ban" });
    const report = await verifyCaseLog(redis, "enc", { verifiers: [verifierOf(signer)] });
    expect(report.failure).toBeUndefined();
    expect(report.entries).toBe(43);
  });

  it("does the same in the embedded store's Lua", async () => {
    const redis = new RedisMock() as unknown as import("ioredis").Redis;
    const log = createAuditLog({ redis });
    const entries = await Promise.all(
      Array.from({ length: 12 }, (_, i) => log.record(tricky("enc-mock", i))),
    );
    await log.close();
    for (const entry of entries) {
      expect(await redis.hget(auditKeys.payloads("enc-mock"), String(entry.seq))).toBe(
        canonicalBytes(entry),
      );
    }
    const report = await verifyCaseLog(redis, "enc-mock");
    expect(report.failure).toBeUndefined();
    expect(report.entries).toBe(12);
    redis.disconnect();
  });
});
