import { describe, expect, it } from "vitest";
import { csvCell, csvRow } from "../../src/audit/csv.ts";

describe("CSV cells", () => {
  it("neutralises cells a spreadsheet would run as formulas", () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-1001234")).toBe("'-1001234");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tx")).toBe("'\tx");
    expect(csvCell("\rx")).toBe('"\'\rx"');
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell(42)).toBe("42");
    expect(csvCell(undefined)).toBe("");
  });
});

describe("CSV rows", () => {
  it("keep ids as numbers, negative ones too; several ids are one guarded text cell", () => {
    expect(csvCell(-1001234567890)).toBe("-1001234567890");
    expect(csvCell(0)).toBe("0");
    expect(csvCell(true)).toBe("true");
    const entry = {
      seq: 3,
      ts: "2025-03-01T10:00:00.000Z",
      case: "op-x",
      actor: { kind: "operator" as const, id: 5550001, role: "operator" as const },
      op: "ban",
      phase: "intent" as const,
      target: { chat_id: -1001234567890, alias: "fw1", user_ids: [-1009876543210] },
      authority: "a",
      purpose: "p",
      software: { version: "0", commit: "c" },
      prev: "0".repeat(64),
    };
    const cells = csvRow(3, entry).split(",");
    expect(cells.slice(0, 11)).toEqual([
      "3",
      "2025-03-01T10:00:00.000Z",
      "operator",
      "5550001",
      "",
      "operator",
      "ban",
      "intent",
      "-1001234567890",
      "fw1",
      "-1009876543210",
    ]);
    const two = csvRow(3, { ...entry, target: { user_ids: [-1, -2] } });
    expect(two).toContain(",'-1 -2,");
  });
});
