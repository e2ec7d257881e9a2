import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { canonicalBytes, isCanonical } from "../../src/audit/entry.ts";

const SAMPLES: unknown[] = [
  { b: 1, a: [3, { y: null, x: "é" }], "": true },
  { "10": "ten", "9": "nine", a: { "1": 1, b: 2 } },
  {
    num: [0, -0, 1e21, 1e-7, 123.456, -1.5e-10, 2 ** 53],
    s: 'line\nbreak \u2028 "quote" \\ \u0001 😀',
  },
  { nested: [[[]], {}], unicode: { é: 1, e: 2, "😀": 3, "\uffff": 4 } },
  "just a string",
  42,
  null,
];

describe("canonical JSON (RFC 8785)", () => {
  it("matches the canonicalize reference package", () => {
    for (const value of SAMPLES) expect(canonicalBytes(value)).toBe(canonicalize(value));
  });

  it("recognises canonical lines, including integer-like keys V8 reorders, and rejects the rest", () => {
    for (const value of SAMPLES) {
      const line = canonicalBytes(value);
      expect(isCanonical(line, JSON.parse(line))).toBe(true);
    }
    const bad = [
      '{"b":1,"a":2}',
      '{"a":1, "b":2}',
      '{"a":1.0}',
      '{"a":"\\u0041"}',
      '{"a":1,"a":1}',
      '{"a":"\\ud800"}',
    ];
    for (const line of bad) expect(isCanonical(line, JSON.parse(line))).toBe(false);
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => canonicalBytes({ a: Number.NaN })).toThrow();
    expect(() => canonicalBytes("\ud800")).toThrow(/lone surrogate/);
  });
});
