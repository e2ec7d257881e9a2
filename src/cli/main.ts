import { runCli } from "./program.ts";

// The `warden` executable: see program.ts for the commands.
process.exitCode = await runCli(process.argv.slice(2));
