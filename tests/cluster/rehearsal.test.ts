/**
 * The whole of Warden on a Redis Cluster of three masters with a replica
 * each: the shipped takeover rehearsed end to end through the simulator —
 * case set-up, the recorder, commands and actions, the scenario engine, the
 * audit log, its export and verification — with every key of a case in its
 * slot and global indexes in steps of their own. Any step that touched keys
 * of two slots would fail here (the cluster refuses it).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RehearsalResult } from "../../src/cli/rehearsal/finish.ts";
import { rehearseScenario } from "../../src/cli/rehearsal.ts";
import { caseOfChat, listCases, listChats } from "../../src/store/cases.ts";
import type { RedisConnection } from "../../src/store/redis.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { clusterUrl, connectTestCluster } from "../helpers/cluster.ts";
import { undeclaredKeys } from "../helpers/keys.ts";

describe("a rehearsal on a Redis Cluster", () => {
  let result: RehearsalResult;
  const lines: string[] = [];
  let connection: RedisConnection;

  beforeAll(async () => {
    result = await rehearseScenario({
      fast: true,
      rateLimits: false,
      redisUrl: clusterUrl(),
      redisMode: "cluster",
      dataDir: mkdtempSync(join(tmpdir(), "warden-cluster-")),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      out: (line) => lines.push(line),
    });
    connection = await connectTestCluster();
  }, 240_000);

  afterAll(async () => {
    await connection?.close();
  });

  it("runs the shipped scenario to its end, with a verified audit log and its export", () => {
    expect(result, lines.join("\n")).toMatchObject({
      ok: true,
      verified: true,
      runStatus: "finished",
      failures: [],
    });
    expect(result.exportFiles.length).toBeGreaterThan(0);
  });

  it("leaves the case, its chats and its log readable from the cluster afterwards", async () => {
    const { redis } = connection;
    expect((await listCases(redis)).map((c) => c.id)).toContain(result.caseId);
    const chats = await listChats(redis, result.caseId);
    expect(chats.length).toBeGreaterThan(0);
    await expectLogVerifies(redis, result.caseId);
  });

  it("keeps every key it wrote under a declared shape, found on whichever master holds it", async () => {
    const problems = (await undeclaredKeys(connection.redis)).filter((p) =>
      p.includes(result.caseId),
    );
    expect(problems).toEqual([]);
  });

  it("lets the seized chats go again at the end, in the global index too", async () => {
    for (const chat of await listChats(connection.redis, result.caseId))
      expect(await caseOfChat(connection.redis, chat.chatId)).not.toBe(result.caseId);
  });
});
