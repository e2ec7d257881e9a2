import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { detectCommand } from "../../src/cli/commands/detect.ts";
import { CliError } from "../../src/cli/context.ts";
import type { LexiconOverride } from "../../src/collect/lexicon/schema.ts";

interface Run {
  lines: Record<string, unknown>[];
}

async function runDetect(
  args: string[],
  input: string[],
  loadCaseLexicon?: (caseId: string) => Promise<LexiconOverride | undefined>,
): Promise<Run> {
  const output = new PassThrough();
  let text = "";
  output.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const program = new Command("warden").exitOverride();
  program.addCommand(
    detectCommand({
      input: Readable.from([input.join("\n")]),
      output,
      loadCaseLexicon,
    }).exitOverride(),
  );
  await program.parseAsync(["detect", ...args], { from: "user" });
  return {
    lines: text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "warden-detect-")), name);
  writeFileSync(path, content);
  return path;
}

describe("warden detect", () => {
  it("prints one verdict per input line, in order", async () => {
    const { lines } = await runDetect(
      [],
      ["5 cobra's voor €50, pb", "de pizza was €12", "", "wie heeft cobra's?"],
    );
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({
      trade: true,
      rules: expect.arrayContaining(["item:fireworks", "price"]),
    });
    expect(lines[1]).toEqual({ trade: false, score: 0.35, rules: ["price"] });
    expect(lines[2]).toEqual({ trade: false, score: 0, rules: [] });
    expect(lines[3]).toMatchObject({ trade: true });
    expect(Object.keys(lines[0] ?? {})).toEqual(["trade", "score", "rules"]);
  });

  it("adds where rules matched with --explain", async () => {
    const { lines } = await runDetect(["--explain"], ["cobra te koop"]);
    expect(lines[0]?.matches).toEqual(
      expect.arrayContaining([{ rule: "item:fireworks", term: "cobra*", start: 0, end: 5 }]),
    );
  });

  it("streams a long input through", async () => {
    const input = Array.from({ length: 5000 }, (_, i) =>
      i % 2 ? `cobra 6 te koop ${i}` : `hallo ${i}`,
    );
    const { lines } = await runDetect([], input);
    expect(lines).toHaveLength(5000);
    expect(lines.filter((l) => l.trade)).toHaveLength(2500);
    expect(lines[4999]?.trade).toBe(true);
  });

  it("merges a YAML lexicon file over the default", async () => {
    const file = tempFile("case.yaml", "add:\n  item:fireworks:\n    - knetterbal*\n");
    const before = await runDetect([], ["knetterballen te koop"]);
    const after = await runDetect(["--lexicon", file], ["knetterballen te koop"]);
    expect(before.lines[0]?.trade).toBe(false);
    expect(after.lines[0]).toMatchObject({
      trade: true,
      rules: expect.arrayContaining(["item:fireworks"]),
    });
  });

  it("loads a case's override through the injected loader, file on top", async () => {
    const asked: string[] = [];
    const loader = async (caseId: string) => {
      asked.push(caseId);
      return { add: { "item:fireworks": ["knetterbal*"] } };
    };
    const viaCase = await runDetect(["--case", "op-fw"], ["knetterballen te koop"], loader);
    expect(asked).toEqual(["op-fw"]);
    expect(viaCase.lines[0]?.trade).toBe(true);

    const file = tempFile("strict.json", JSON.stringify({ threshold: 5 }));
    const both = await runDetect(
      ["--case", "op-fw", "--lexicon", file],
      ["knetterballen te koop"],
      loader,
    );
    expect(both.lines[0]).toMatchObject({
      trade: false,
      rules: expect.arrayContaining(["item:fireworks"]),
    });
  });

  it("refuses --case without a case store, and a bad lexicon file, as input errors", async () => {
    await expect(runDetect(["--case", "op-fw"], ["x"])).rejects.toThrow(CliError);
    const bad = tempFile("bad.yaml", "add:\n  item:fireworks: ['(cobra|kobra)+']\n");
    const error = await runDetect(["--lexicon", bad], ["x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(
      /bad\.yaml[\s\S]*regular expressions are not accepted/,
    );
    await expect(runDetect(["--lexicon", "/nonexistent/lexicon.yaml"], ["x"])).rejects.toThrow(
      /cannot read lexicon/,
    );
  });
});
