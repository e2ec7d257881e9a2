import { describe, expect, it } from "vitest";
import { entriesSince } from "../../src/audit/recent.ts";
import { NotReplicatedError, waitForReplicasOf } from "../../src/store/replicas.ts";
import { freshLog, info, operator } from "./helpers.ts";

/**
 * A consultation or disclosure is recorded before the data is shown or handed
 * over; with REDIS_WAIT_REPLICAS its `record` resolves only once Redis's
 * replicas hold it, so a failover cannot lose the record of a look that
 * happened. Other entries do not wait (actions and confirmations wait at
 * their own moments).
 */

const consult = (caseId: string) => ({
  case: caseId,
  actor: operator,
  op: "consult",
  phase: "info" as const,
  justification: "identify the seller of post 123",
  target: { user_ids: [42] },
});

describe("the record of a look at collected data, and the replicas", () => {
  it("resolves only after the replicas hold it; other entries do not wait", async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const store = await freshLog({
      replicated: () => {
        order.push("wait");
        return new Promise<void>((resolve) => {
          release = () => {
            order.push("replicated");
            resolve();
          };
        });
      },
    });
    await store.log.record(info("rep-1", "case.note"));
    expect(order).toEqual([]);
    const looked = store.log.record(consult("rep-1")).then((entry) => {
      order.push("shown");
      return entry;
    });
    // Stored on the master, and waiting for the replicas before anything is shown.
    await expect
      .poll(async () => (await entriesSince(store.redis, "rep-1", 0)).map((e) => e.op))
      .toEqual(["case.note", "consult"]);
    await expect.poll(() => order).toEqual(["wait"]);
    release();
    const entry = await looked;
    expect(entry.op).toBe("consult");
    expect(order).toEqual(["wait", "replicated", "shown"]);
  });

  it("is refused when a real Redis has no replica to hold it, and stays on the record", async () => {
    // A single server has no replica: WAIT 1 answers 0 after its time limit.
    const probe = await freshLog();
    const replicated = waitForReplicasOf(probe.redis, { replicas: 1, timeoutMs: 50 });
    const store = await freshLog({ ...(replicated ? { replicated } : {}) });
    await expect(store.log.record(consult("rep-2"))).rejects.toThrow(NotReplicatedError);
    await expect(store.log.record(consult("rep-2"))).rejects.toThrow(
      /no consulted data is shown.*REDIS_WAIT_REPLICAS/,
    );
    // The look did not happen, but the attempt is not hidden: both entries are in the log.
    expect((await entriesSince(store.redis, "rep-2", 0)).map((e) => e.op)).toEqual([
      "consult",
      "consult",
    ]);
    // Entries that are not looks at data do not wait for the replicas, nor does an outcome: one a
    // failover loses leaves its intent open, to be closed as unknown, never less than happened.
    await expect(store.log.record(info("rep-2", "case.note"))).resolves.toMatchObject({
      op: "case.note",
    });
    await expect(
      store.log.record({ ...consult("rep-2"), phase: "intent", params: { export: "members" } }),
    ).rejects.toThrow(NotReplicatedError);
    const intent = (await entriesSince(store.redis, "rep-2", 0)).at(-1);
    await expect(
      store.log.record({
        ...consult("rep-2"),
        phase: "outcome",
        intent_seq: intent?.seq as number,
        result: { ok: true },
      }),
    ).resolves.toMatchObject({ op: "consult", phase: "outcome" });
  });
});
