// The entry point of verify's worker threads, in plain JavaScript so that it
// starts whether or not the thread inherited a TypeScript loader: under
// `tsx src/cli/main.ts` it did (tsx's flags are in execArgv), under
// bin/warden.js (tsx registered in-process) and vitest it did not. tsImport
// loads the TypeScript side with tsx either way.
import { tsImport } from "tsx/esm/api";

await tsImport("./verify-worker.ts", import.meta.url);
