import { createReadStream } from "node:fs";

/**
 * The lines of a JSON Lines file (an exported `entries.jsonl`), in batches of
 * whatever one read returned, for `verifyEntries`. Lines break where
 * `readline` with `crlfDelay: Infinity` breaks them (`\n`, `\r\n`, a lone
 * `\r`), so a file verifies the same either way; reading in batches spares the
 * verifier an `await` per line, which was a large share of its time.
 */
export async function* readLineBatches(
  path: string,
  opts: { chunkBytes?: number } = {},
): AsyncGenerator<string[]> {
  const input = createReadStream(path, {
    encoding: "utf8",
    highWaterMark: opts.chunkBytes ?? 1 << 20,
  });
  let partial = "";
  for await (const chunk of input as AsyncIterable<string>) {
    const text = partial + chunk;
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      partial = text;
      continue;
    }
    partial = text.slice(end + 1);
    // The break at `end` may be a \r\n: its \r belongs to the break, not to a line.
    yield splitLines(text.slice(0, text.charCodeAt(end - 1) === 13 ? end - 1 : end));
  }
  if (partial !== "") {
    const last = splitLines(partial);
    // A file ending in a lone \r: readline emits no empty line after it.
    if (partial.endsWith("\r")) last.pop();
    yield last;
  }
}

function splitLines(text: string): string[] {
  return text.includes("\r") ? text.split(/\r\n|\n|\r/) : text.split("\n");
}
