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
