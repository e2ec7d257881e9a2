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

describe("canonical JSON edge cases", () => {
  it("agrees with the reference on nulls, undefined members, -0, escapes and toJSON", () => {
    const samples: unknown[] = [
      { a: null, b: undefined, c: [undefined, null], d: -0, e: "C:\\udata", f: new Date(0) },
      [{ z: 1, y: { x: 2, w: [{ v: 3, u: 4 }] } }],
      { "1": { b: 1, a: 2 }, a: "\u00e9\u0301" },
    ];
    for (const value of samples) expect(canonicalBytes(value)).toBe(canonicalize(value));
    expect(() => canonicalBytes({ a: [Number.POSITIVE_INFINITY] })).toThrow();
    expect(() => canonicalBytes({ a: { b: "x\udc00" } })).toThrow(/lone surrogate/);
  });
});
