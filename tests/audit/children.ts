import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const WRITER = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url));

/** Starts tests/audit/fixtures/writer.ts in its own Node process. */
export function startWriter(args: string[]): {
  child: ChildProcess;
  output: Promise<string>;
  waitFor(text: string): Promise<void>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { text: string; resolve(): void }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const output = new Promise<string>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      if (code === 0 || signal === "SIGKILL") resolve(out);
      else reject(new Error(`writer exited with ${code ?? signal}: ${err}`));
    });
  });
  return {
    child,
    output,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        child.once("exit", () =>
          reject(new Error(`writer exited before printing "${text}": ${err}`)),
        );
      }),
  };
}
