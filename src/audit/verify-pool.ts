import { availableParallelism } from "node:os";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { analyseLines, type LineFacts } from "./verify-lines.ts";
import type { BatchRequest, WorkerData } from "./verify-worker.ts";

/**
 * Worker threads that run the per-line part of verification (`analyseLines`)
 * on batches of a long log while the verifier's own thread reads the log and
 * runs the in-order checks. Batches come back in the order they went in; the
 * caller holds a bounded window of them, so memory stays bounded whatever the
 * log's length. Whenever the verifier would wait for a worker, it analyses a
 * batch no worker has taken yet itself: the work balances across the threads,
 * the workers' start-up is not waited for, and a worker that fails only
 * leaves more to the verifier's thread.
 *
 * Answers come on a MessageChannel per worker, which the verifier's thread
 * polls (`receiveMessageOnPort`) between batches: it is rarely idle, so it
 * would otherwise see an answer only when it next waited for the source, and
 * the workers would stand idle meanwhile.
 */

/** min(cores − 1, 3), at least 1: one core stays with the verifier's own thread. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 3));
}

/**
 * Parsing leaves much short-lived garbage: a young generation larger than a
 * worker's default makes it scavenged less often, which cut a quarter of the
 * workers' time per line.
 */
const YOUNG_GENERATION_MB = 48;

/** Batches a worker holds at once: one it works on, one waiting, so it never idles on a round trip. */
const PER_WORKER = 2;

export interface Batch<T> {
  /** The seq of the first line, if every line before it is sound. */
  firstSeq: number;
  /** What the caller passed in, one per line. */
  items: T[];
  lines: string[];
  facts?: LineFacts;
  /** The worker holding it, until its facts come back. */
  at?: Slot<T>;
}

interface Slot<T> {
  worker: Worker;
  port: MessagePort;
  ready: boolean;
  dead: boolean;
  held: Map<number, Batch<T>>;
}

/** How the batches of one verification were analysed: for tests and benchmarks. */
export const poolStats = { workersReady: 0, workerBatches: 0, localBatches: 0, workerFailures: 0 };

interface Answer {
  ready?: true;
  id?: number;
  facts?: LineFacts;
}

const WORKER_URL = new URL("./verify-worker.mjs", import.meta.url);

export class LinePool<T> {
  private readonly slots: Slot<T>[] = [];
  /** Batches not yet taken by the caller, in log order. */
  private readonly window: Batch<T>[] = [];
  private nextId = 0;
  private wake: (() => void) | undefined;

  constructor(
    threads: number,
    private readonly caseId: string,
  ) {
    for (let k = 0; k < threads; k++) {
      const { port1: port, port2 } = new MessageChannel();
      const data: WorkerData = { caseId, port: port2 };
      const worker = new Worker(WORKER_URL, {
        workerData: data,
        transferList: [port2],
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
      const slot: Slot<T> = { worker, port, ready: false, dead: false, held: new Map() };
      port.on("message", (message: Answer) => {
        this.receive(slot, message);
        this.poll();
        this.notify();
      });
      const lost = () => {
        if (slot.dead) return;
        slot.dead = true;
        poolStats.workerFailures++;
        // Its batches go back to the queue, for another worker or this thread.
        for (const batch of slot.held.values()) batch.at = undefined;
        slot.held.clear();
        this.dispatch();
        this.notify();
      };
      worker.on("error", lost);
      worker.on("exit", lost);
      this.slots.push(slot);
    }
  }

  /** Batches added and not yet taken. */
  get size(): number {
    return this.window.length;
  }

  add(firstSeq: number, items: T[], lines: string[]): void {
    this.window.push({ firstSeq, items, lines });
    this.poll();
  }

  /** The oldest batch, analysed. */
  async next(): Promise<Batch<T>> {
    const head = this.window[0];
    if (!head) throw new Error("LinePool.next() with no batch added");
    for (;;) {
      this.poll();
      if (head.facts) break;
      if (!head.at) {
        this.analyse(head);
        break;
      }
      // Rather than wait, take the batch furthest from the head that no worker holds.
      let spare: Batch<T> | undefined;
      for (let k = this.window.length - 1; k > 0 && !spare; k--) {
        const batch = this.window[k] as Batch<T>;
        if (!batch.facts && !batch.at) spare = batch;
      }
      if (spare) this.analyse(spare);
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.window.shift();
    return head;
  }

  /** Stops the workers; the pool cannot be used after. */
  async close(): Promise<void> {
    for (const slot of this.slots) {
      slot.dead = true;
      slot.port.close();
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private analyse(batch: Batch<T>): void {
    batch.facts = analyseLines(batch.lines, batch.firstSeq, this.caseId);
    poolStats.localBatches++;
  }

  private receive(slot: Slot<T>, message: Answer): void {
    if (message.ready) {
      slot.ready = true;
      poolStats.workersReady++;
      return;
    }
    const batch = slot.held.get(message.id as number);
    slot.held.delete(message.id as number);
    if (batch) {
      batch.facts = message.facts;
      batch.at = undefined;
      poolStats.workerBatches++;
    }
  }

  /** Takes the answers that have arrived, without waiting for the event loop, and hands out more work. */
  private poll(): void {
    for (const slot of this.slots) {
      if (slot.dead) continue;
      for (;;) {
        const got = receiveMessageOnPort(slot.port);
        if (!got) break;
        this.receive(slot, got.message as Answer);
      }
    }
    this.dispatch();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Hands batches no one holds, oldest first, to the least busy ready workers. */
  private dispatch(): void {
    for (const batch of this.window) {
      if (batch.facts || batch.at) continue;
      let best: Slot<T> | undefined;
      for (const slot of this.slots) {
        if (!slot.ready || slot.dead || slot.held.size >= PER_WORKER) continue;
        if (!best || slot.held.size < best.held.size) best = slot;
      }
      if (!best) return;
      const id = this.nextId++;
      best.held.set(id, batch);
      batch.at = best;
      const request: BatchRequest = { id, firstSeq: batch.firstSeq, lines: batch.lines };
      best.port.postMessage(request);
    }
  }
}
