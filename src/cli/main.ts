import { loadEnvFile } from "./env-file.ts";
import { runCli } from "./program.ts";

// The `warden` executable: see program.ts for the commands.

// Output piped into a reader that stopped (`warden case list | head -1`) ends quietly, as other
// command-line tools do, instead of with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });

let envFile: string | undefined;
try {
  envFile = loadEnvFile();
} catch (err) {
  console.error(`warden: ${(err as Error).message}`);
  process.exit(2);
}
if (envFile) console.error(`warden: settings from ${envFile}`);
process.exitCode = await runCli(process.argv.slice(2));
