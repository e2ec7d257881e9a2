/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal
 * (never into a log file or a pipe), at most ten times a second.
 */

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

const WIDTH = 30;

export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(share * WIDTH);
    stream.write(
      `\r${label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${Math.round(share * 100)}% ${done}/${total}`,
    );
    drawn = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(done, total);
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}

/**
 * A single status line on stderr that redraws in place (say, a long
 * rehearsal's simulated day and counts), drawn only when stderr is a
 * terminal and at most ten times a second. `hide()` wipes it before other
 * output is written to the same screen; the next `show` draws it again.
 */
export interface StatusLine {
  show(text: string): void;
  hide(): void;
}

export function createStatusLine(
  stream: { isTTY?: boolean; columns?: number; write(text: string): unknown } = process.stderr,
): StatusLine {
  if (!stream.isTTY) return { show: () => undefined, hide: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    show(text) {
      const now = Date.now();
      if (drawn && now - last < 100) return;
      last = now;
      // Kept to the terminal's width, so it never wraps into a second line it cannot wipe.
      // A terminal that reports no size (0 columns, as a pty nobody sized) is taken as 80 wide.
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
      drawn = true;
    },
    hide() {
      if (!drawn) return;
      stream.write("\r\x1b[K");
      drawn = false;
    },
  };
}

/**
 * Progress of a long read of an audit log (verify, export) on a terminal:
 * `verifying the log: 12,000 of 1,000,000 entries`, or without a total
 * `12,000 entries`. Wiped before the result is printed; nothing at all when
 * stderr is not a terminal.
 */
export function entryProgress(
  label: string,
  stream?: Parameters<typeof createStatusLine>[0],
): { report(done: number, total: number | undefined): void; done(): void } {
  const line = createStatusLine(stream);
  const fmt = (n: number) => n.toLocaleString("en-GB");
  return {
    report(done, total) {
      line.show(`${label}: ${fmt(done)}${total !== undefined ? ` of ${fmt(total)}` : ""} entries`);
    },
    done() {
      line.hide();
    },
  };
}
