/**
 * What a long rehearsal leaves on the terminal and on disk: a status line on
 * stderr, drawn in place only when stderr is a terminal and wiped before the
 * transcript prints; and Warden's log in a file of its own, JSON lines through
 * the same secret filter, counting its warnings and errors.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFileLogger } from "../../src/cli/logger.ts";
import { createStatusLine } from "../../src/cli/progress.ts";

function screen(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 40, writes, write: (t: string) => writes.push(t) };
}

describe("status line", () => {
  it("draws in place on a terminal, within its width, and wipes itself before other output", () => {
    const tty = screen(true);
    const status = createStatusLine(tty);
    status.show("rehearsing: simulated 12-28 19:00 UTC, day 2 · 4000 member messages");
    status.hide();
    status.hide();
    expect(tty.writes).toEqual(["\rrehearsing: simulated 12-28 19:00 UTC, \x1b[K", "\r\x1b[K"]);
  });

  it("writes nothing when stderr is not a terminal (a pipe, a log file)", () => {
    const pipe = screen(false);
    const status = createStatusLine(pipe);
    status.show("anything");
    status.hide();
    expect(pipe.writes).toEqual([]);
  });
});

describe("log file", () => {
  it("holds JSON lines without secrets, counts warnings and errors, and drops lines once closed", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "warden-log-")), "rehearsals", "case.log");
    const log = createFileLogger(path, { level: "info", secrets: ["s3cret-value"] });
    log.logger.info({ password: "s3cret-value" }, "hello");
    log.logger.debug("below the level");
    log.logger.warn("careful");
    log.logger.error("broken");
    log.logger.fatal("worse");
    expect(log.counts()).toEqual({ lines: 4, warnings: 1, errors: 2 });
    await log.close();
    log.logger.info("after the end");
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      "hello",
      "careful",
      "broken",
      "worse",
    ]);
    expect(lines[0]).toContain("[REDACTED]");
    expect(lines.join("\n")).not.toContain("s3cret-value");
  });
});
