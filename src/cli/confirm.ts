import { createInterface } from "node:readline/promises";

/**
 * Asks a yes-or-no question on the terminal; only an explicit yes counts.
 * Commands that cannot be undone ask first when a person is at the keyboard,
 * and without one (a script, a pipe) demand `--yes`, so a pasted line never
 * does what nobody typed.
 */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes|j|ja)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function onTerminal(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}
