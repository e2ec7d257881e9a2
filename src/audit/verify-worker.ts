import { type MessagePort, workerData } from "node:worker_threads";
import { analyseLines } from "./verify-lines.ts";

/**
 * A worker thread of `verify-pool.ts`: answers each batch of lines with its
 * facts (`analyseLines`), in the order the batches came, on the port it was
 * given. Started through `verify-worker.mjs`, which loads this file with tsx.
 */

export interface BatchRequest {
  id: number;
  firstSeq: number;
  lines: string[];
}

export interface WorkerData {
  caseId: string;
  port: MessagePort;
}

const { caseId, port } = workerData as WorkerData;

port.on("message", (request: BatchRequest) => {
  const facts = analyseLines(request.lines, request.firstSeq, caseId);
  port.postMessage({ id: request.id, facts }, [
    facts.kinds.buffer as ArrayBuffer,
    facts.codes.buffer as ArrayBuffer,
    facts.nums.buffer as ArrayBuffer,
  ]);
});
port.postMessage({ ready: true });
