import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  auditEntrySchema,
  canonicalBytes,
  canonicalText,
  isAuditEntry,
  isCanonical,
  reserialisesTo,
} from "../../src/audit/entry.ts";
import { readLineBatches } from "../../src/audit/lines.ts";
import {
  appendLeaf,
  appendLeafHex,
  decodeHexFrontier,
  EMPTY_ROOT,
  emptyFrontier,
  emptyHexFrontier,
  encodeFrontier,
  encodeHexFrontier,
  frontierRoot,
  hexFrontierRoot,
  leafHash,
  leafHashHex,
  nodeHash,
  nodeHashHex,
} from "../../src/audit/merkle.ts";

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

describe("the one-pass canonical check", () => {
  const strings = ["", "a", "b", "é", "\u0001", "\n", '"', "\\", "/", "😀", "\u2028", "\u007f"];
  const more = ["10", "9", "__proto__", "a\u0000b", "\ud800", "B", "ab", "a b"];
  const numbers = [0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345, 1234567890123456, 2 ** 53];
  const numbers2 = [-(2 ** 60), 0.1, 5e-324, 1.7976931348623157e308, -1e-7, 100];
  const leaves: unknown[] = [...strings, ...more, ...numbers, ...numbers2, true, false, null];

  function value(next: () => number, depth: number): unknown {
    const r = next();
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
    if (depth > 3 || r < 0.3) return pick(leaves);
    if (r < 0.6)
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    const o: Record<string, unknown> = {};
    for (let k = Math.floor(next() * 5); k > 0; k--)
      o[pick([...strings, ...more])] = value(next, depth + 1);
    return o;
  }

  const edits: ((text: string) => string)[] = [
    (t) => t.replace(",", ", "),
    (t) => t.replace(":", " :"),
    (t) => ` ${t}`,
    (t) => `${t}\n`,
    (t) => t.replace(/"([a-z])"/, '"\\u00$1"'),
    (t) => t.replace("\\n", "\\u000a"),
    (t) => t.replace("\\u0001", "\\u0001".toUpperCase()),
    (t) => t.replace(/(\d)([,\]}])/, "$1.0$2"),
    (t) => t.replace(/(\d)([,\]}])/, "$1e0$2"),
    (t) => t.replace(/(\d)([,\]}])/, "$1E+2$2"),
    (t) => t.replace("0", "-0"),
    (t) => t.replace("/", "\\/"),
    (t) => t.replace("é", "\\u00e9"),
    (t) => t.replace("\\\\", "\\u005c"),
    (t) => {
      const m = /\{"([^"\\]*)":([^,{}[\]]*),"([^"\\]*)":/.exec(t);
      return m ? t.replace(m[0], `{"${m[3]}":${m[2]},"${m[1]}":`) : t;
    },
    (t) => {
      const m = /\{"([^"\\]*)":/.exec(t);
      return m ? t.replace(m[0], `{"${m[1]}":0,"${m[1]}":`) : t;
    },
  ];

  it("agrees with re-serialising on random values and edited texts", () => {
    const next = random(7);
    let definite = 0;
    let canonical = 0;
    for (let n = 0; n < 20_000; n++) {
      const v = value(next, 0);
      let text: string;
      try {
        text = canonicalBytes(v);
      } catch {
        text = JSON.stringify(v);
      }
      if (next() < 0.6)
        text = (edits[Math.floor(next() * edits.length)] as (t: string) => string)(text);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      const fast = canonicalText(text);
      const reference = reserialisesTo(text, parsed);
      expect(isCanonical(text, parsed), text).toBe(reference);
      if (fast === undefined) continue;
      definite++;
      if (fast) canonical++;
      expect(fast, text).toBe(reference);
    }
    // Both answers were exercised, and most texts were settled by the scan alone.
    expect(canonical).toBeGreaterThan(2000);
    expect(definite - canonical).toBeGreaterThan(2000);
  });

  it("settles the cases it should by itself", () => {
    const cases: [string, boolean | undefined][] = [
      ['{"a":1,"b":[true,false,null],"c":{"d":"x"}}', true],
      ['{"b":1,"a":2}', false],
      ['{"a":1,"a":1}', false],
      ['{"a":1, "b":2}', false],
      ['{"a":1.0}', false],
      ['{"a":-0}', false],
      ['{"a":1e+21,"b":1e-7,"c":-1.5}', true],
      ['{"a":1E+21}', false],
      ['{"a":12345678901234567890}', false],
      ['{"a":"\\u001f\\n\\"\\\\"}', true],
      ['{"a":"\\u001F"}', false],
      ['{"a":"\\u000a"}', false],
      ['{"a":"\\/"}', false],
      ['{"1":0,"10":0,"9":0,"a":0}', true],
      ['{"a":"\\ud800"}', false],
      ['{"a":"😀"}', undefined],
      ['{"\\n":1}', undefined],
      ["[]", true],
      ["[1,[2,{}]]", true],
      ["[1 ]", false],
    ];
    for (const [text, expected] of cases) {
      expect(canonicalText(text), text).toBe(expected);
      expect(isCanonical(text, JSON.parse(text)), text).toBe(
        reserialisesTo(text, JSON.parse(text)),
      );
    }
  });
});

describe("the compiled entry schema", () => {
  const valid = {
    actor: { id: 5550001, kind: "operator", name: "Officer A", role: "operator" },
    authority: "StA 12 Js 345/25",
    case: "c1",
    op: "collect",
    params: { username: "m", n: 1 },
    phase: "info",
    prev: "0".repeat(64),
    purpose: "p",
    seq: 2,
    software: { commit: "x", version: "y" },
    target: { alias: "fw1", chat_id: -1001, user_ids: [7] },
    ts: "2025-03-01T00:00:00.001Z",
  };
  type Edit = (e: Record<string, unknown>) => void;
  const set =
    (path: string, v: unknown): Edit =>
    (e) => {
      const keys = path.split(".");
      let at = e as Record<string, unknown>;
      for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
      const last = keys[keys.length - 1] as string;
      if (v === undefined) delete at[last];
      else at[last] = v;
    };
  const edits: Edit[] = [
    (_e) => undefined,
    set("seq", 0),
    set("seq", 1.5),
    set("seq", 2 ** 53),
    set("seq", "2"),
    set("seq", undefined),
    set("ts", "2025-03-01T00:00:00Z"),
    set("ts", "2025-03-01T00:00:00.001+00:00"),
    set("ts", "2025-02-30T00:00:00.001Z"),
    set("ts", "2024-02-29T23:59:59.999Z"),
    set("case", ""),
    set("op", "Collect"),
    set("op", "scenario.step_1"),
    set("op", "a..b"),
    set("phase", "done"),
    set("prev", "A".repeat(64)),
    set("prev", "0".repeat(63)),
    set("authority", undefined),
    set("purpose", 1),
    set("extra", 1),
    set("actor.kind", "member"),
    set("actor.kind", "king"),
    set("actor.id", 1.5),
    set("actor.id", 2 ** 60),
    set("actor.role", "auditor"),
    set("actor.role", "member"),
    set("actor.extra", true),
    set("target.user_ids", [1, "2"]),
    set("target.user_ids", []),
    set("target.chat_id", null),
    set("target.extra", 1),
    set("params", []),
    set("params", null),
    set("params", { nested: { deep: [1, { x: null }] } }),
    set("result", { ok: true, anything: [1] }),
    set("result", { ok: false, description: "no", error_code: 400 }),
    set("result", { ok: false, error_code: 400 }),
    set("result", { ok: false, description: "no", error_code: 4.5 }),
    set("result", { ok: "unknown", description: "crash" }),
    set("result", { ok: "unknown", description: "crash", more: 1 }),
    set("result", { ok: "maybe" }),
    set("justification", "because"),
    set("justification", 3),
    set("recipients", ["court"]),
    set("recipients", [1]),
    set("update_ids", [1, 2]),
    set("update_ids", [1.5]),
    set("scenario", { hash: "h", id: "s", step: "1" }),
    set("scenario", { hash: "h", id: "s" }),
    set("intent_seq", 1),
    set("intent_seq", 2),
    set("intent_seq", 0),
    set("software", { commit: "x" }),
    set("software.extra", "z"),
    (e) => {
      e.op = "consult";
    },
    (e) => {
      e.op = "consult";
      e.justification = "  ";
    },
    (e) => {
      e.op = "disclose";
      e.justification = "court order";
    },
    (e) => {
      e.op = "disclose";
      e.justification = "court order";
      e.recipients = ["court"];
    },
    (e) => {
      e.phase = "outcome";
    },
    (e) => {
      e.phase = "outcome";
      e.intent_seq = 1;
    },
    (e) => {
      e.phase = "outcome";
      e.intent_seq = 1;
      e.result = { ok: true };
    },
  ];

  it("accepts exactly what the zod schema accepts", () => {
    let accepted = 0;
    for (const [k, edit] of edits.entries()) {
      const entry = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
      edit(entry);
      // Through JSON, as the verifier sees entries.
      const raw = JSON.parse(JSON.stringify(entry)) as unknown;
      const reference = auditEntrySchema.safeParse(raw).success;
      expect(isAuditEntry(raw), `edit #${k}`).toBe(reference);
      if (reference) accepted++;
    }
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThan(edits.length - 20);
    const withProto = JSON.parse(`{"__proto__":1,${JSON.stringify(valid).slice(1)}`) as unknown;
    expect(isAuditEntry(withProto)).toBe(auditEntrySchema.safeParse(withProto).success);
  });
});

describe("reading JSON Lines in batches", () => {
  async function viaReadline(text: string): Promise<string[]> {
    const out: string[] = [];
    const lines = createInterface({
      input: Readable.from([text]),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) out.push(line);
    return out;
  }

  it("breaks lines where readline does, across chunk boundaries and multi-byte characters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-lines-"));
    try {
      const texts = [
        "a\nb\nc",
        "a\nb\n",
        "a\r\nb\r\n",
        "a\r\nb",
        "a\rb\n",
        "a\n\nb\n\n",
        "",
        "\n",
        "a\r",
        "a\r\r\nb",
        `${"é😀x".repeat(50)}\n${"y".repeat(70)}\r\n${"ü".repeat(33)}`,
      ];
      for (const [k, text] of texts.entries()) {
        const file = join(dir, `t${k}.jsonl`);
        writeFileSync(file, text);
        const expected = await viaReadline(text);
        for (const chunkBytes of [1, 2, 3, 7, 64, 1 << 20]) {
          const got: string[] = [];
          for await (const batch of readLineBatches(file, { chunkBytes })) got.push(...batch);
          expect(got, `${JSON.stringify(text)} in chunks of ${chunkBytes}`).toEqual(expected);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Merkle hashing on hex", () => {
  it("gives the same leaves, nodes, frontiers and roots as the Buffer functions", () => {
    expect(hexFrontierRoot(emptyHexFrontier())).toEqual(EMPTY_ROOT);
    const tree = emptyFrontier();
    const hex = emptyHexFrontier();
    for (let i = 0; i < 70; i++) {
      const line = `entry ${i} é😀`;
      expect(leafHashHex(line)).toBe(leafHash(line).toString("hex"));
      appendLeaf(tree, leafHash(line));
      appendLeafHex(hex, leafHashHex(line));
      expect(hexFrontierRoot(hex)).toEqual(frontierRoot(tree));
      expect(encodeHexFrontier(hex)).toBe(encodeFrontier(tree));
      expect(decodeHexFrontier(hex.size, encodeHexFrontier(hex))).toEqual(hex);
    }
    const a = leafHash("a");
    const b = leafHash("b");
    expect(nodeHashHex(a.toString("hex"), b.toString("hex"))).toBe(nodeHash(a, b).toString("hex"));
  });

  it("refuses anything but 64-digit lower-case hex", () => {
    expect(() => nodeHashHex("ab", "cd")).toThrow(/64-digit/);
    expect(() => nodeHashHex("g".repeat(64), "0".repeat(64))).toThrow(/64-digit/);
    expect(() => decodeHexFrontier(1, "A".repeat(64))).toThrow(/hex/);
    expect(() => decodeHexFrontier(3, "0".repeat(64))).toThrow(/needs 2/);
  });
});

describe("clock steps back", () => {
  it("warns when a timestamp goes back more than the tolerance from the latest one before it", async () => {
    const { verifyEntries } = await import("../../src/audit/verify.ts");
    const times = [
      "2025-03-01T10:00:00.000Z",
      "2025-03-01T10:00:05.000Z",
      "2025-03-01T10:00:04.000Z", // 1 s back: within tolerance
      "2025-03-01T10:00:01.500Z", // 3.5 s back from the latest (…:05)
      "2025-03-01T10:00:06.000Z",
      "2025-03-01T09:59:59.999Z", // 6.001 s back
    ];
    const lines: string[] = [];
    let prev = "0".repeat(64);
    for (const [k, ts] of times.entries()) {
      const line = canonicalBytes({
        actor: { kind: "cli", name: "t" },
        authority: "a",
        case: "clock",
        op: "warn",
        phase: "info",
        prev,
        purpose: "p",
        seq: k + 1,
        software: { commit: "c", version: "v" },
        ts,
      });
      lines.push(line);
      prev = leafHashHex(line);
    }
    const report = await verifyEntries([lines], { caseId: "clock" });
    expect(report.ok).toBe(true);
    expect(report.warnings.filter((w) => /goes back/.test(w.message))).toEqual([
      { seq: 4, message: expect.stringMatching(/goes back 3500 ms/) },
      { seq: 6, message: expect.stringMatching(/goes back 6001 ms/) },
    ]);
  });
});
