/**
 * Changes that need a case's keys and a global index are two steps on a
 * cluster (two slots). Each test lets the process "die" between the two —
 * every Redis call after the first step fails, as for a process killed
 * there — then runs the repair `warden start` runs first
 * (`repairGlobalIndexes`), and checks the indexes agree with the cases again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addChat,
  createCase,
  type RegistryDeps,
  setControlRoom,
} from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { caseOfChat, caseOfControlRoom, getCase, listCases } from "../../src/store/cases.ts";
import { repairGlobalIndexes } from "../../src/store/global-index.ts";
import { keys } from "../../src/store/keys.ts";
import type { Redis, RedisConnection } from "../../src/store/redis.ts";
import { connectTestCluster, freshCaseId } from "../helpers/cluster.ts";

/**
 * The client as a process that dies at the first call `fatal` picks: that
 * call and every later one fail, so nothing after it reaches Redis.
 */
function dyingAt(redis: Redis, fatal: (method: string, args: unknown[]) => boolean): Redis {
  let dead = false;
  return new Proxy(redis, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (!dead && fatal(String(prop), args)) dead = true;
        if (dead) return Promise.reject(new Error("killed"));
        return value.apply(target, args);
      };
    },
  });
}

const actor = { kind: "cli", name: "test" } as const;
let chatSeq = 0;
const freshChatId = () => -1_009_000_000_000 - process.pid * 1000 - ++chatSeq;

describe("a crash between a case's step and a global index's", () => {
  let connection: RedisConnection;
  let redis: Redis;
  const deps = (r: Redis): RegistryDeps => ({
    redis: r,
    audit: createAuditLog({ redis: r }),
    actor,
  });
  const newCase = async (r: Redis, id = freshCaseId("repair")) =>
    createCase(deps(r), { id, title: "t", authority: "a", purpose: "p", retentionDays: 1 });

  beforeAll(async () => {
    connection = await connectTestCluster();
    redis = connection.redis;
  });
  afterAll(async () => {
    await connection?.close();
  });

  it("a case recorded but not listed is listed at start", async () => {
    const id = freshCaseId("unlisted");
    const dying = dyingAt(redis, (m, a) => m === "sadd" && a[0] === keys.caseIndex());
    await expect(newCase(dying, id)).rejects.toThrow("killed");
    expect(await getCase(redis, id)).toBeDefined();
    expect((await listCases(redis)).map((c) => c.id)).not.toContain(id);

    const repairs = await repairGlobalIndexes(redis);
    expect(repairs.casesListed).toContain(id);
    expect((await listCases(redis)).map((c) => c.id)).toContain(id);
  });

  it("a chat claimed but never recorded is let go at start, and another case may seize it", async () => {
    const a = await newCase(redis);
    const b = await newCase(redis);
    const chatId = freshChatId();
    // Dies as the case's step is sent, after the claim.
    const dying = dyingAt(redis, (m) => m === "eval" || m === "evalsha");
    await expect(addChat(deps(dying), a.id, { chatId, alias: "fw1" })).rejects.toThrow();
    expect(await caseOfChat(redis, chatId)).toBe(a.id);
    await expect(addChat(deps(redis), b.id, { chatId, alias: "fw1" })).rejects.toThrow(
      /cannot be seized/,
    );

    const repairs = await repairGlobalIndexes(redis);
    expect(repairs.chatsReleased).toContain(chatId);
    expect(await caseOfChat(redis, chatId)).toBeUndefined();
    await addChat(deps(redis), b.id, { chatId, alias: "fw1" });
    expect(await caseOfChat(redis, chatId)).toBe(b.id);
  });

  it("a control room replaced but still indexed is let go at start", async () => {
    const c = await newCase(redis);
    const [first, second] = [freshChatId(), freshChatId()];
    await setControlRoom(deps(redis), c.id, first);
    // Dies as it gives up the old room, after the case recorded the new one.
    const dying = dyingAt(
      redis,
      (m, a) => m === "eval" && a[2] === keys.controlRoomIndex() && a[3] === String(first),
    );
    await expect(setControlRoom(deps(dying), c.id, second)).rejects.toThrow("killed");
    expect((await getCase(redis, c.id))?.controlRoom).toBe(second);
    expect(await caseOfControlRoom(redis, first)).toBe(c.id);

    const repairs = await repairGlobalIndexes(redis);
    expect(repairs.roomsReleased).toContain(first);
    expect(await caseOfControlRoom(redis, first)).toBeUndefined();
    expect(await caseOfControlRoom(redis, second)).toBe(c.id);
  });

  it("a claim released by a start's repair running meanwhile is claimed again once recorded", async () => {
    const e = await newCase(redis);
    const chatId = freshChatId();
    // The repair runs just as the case's step is about to be sent, after the claim.
    let repaired = false;
    const racing = new Proxy(redis, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          if (!repaired && (prop === "eval" || prop === "evalsha")) {
            repaired = true;
            expect((await repairGlobalIndexes(redis)).chatsReleased).toContain(chatId);
          }
          return value.apply(target, args);
        };
      },
    });
    await addChat(deps(racing), e.id, { chatId, alias: "fw1" });
    expect(repaired).toBe(true);
    expect(await caseOfChat(redis, chatId)).toBe(e.id);
  });

  it("repairs nothing where nothing was cut", async () => {
    const d = await newCase(redis);
    const chatId = freshChatId();
    await addChat(deps(redis), d.id, { chatId, alias: "fw1" });
    await setControlRoom(deps(redis), d.id, freshChatId());
    const repairs = await repairGlobalIndexes(redis);
    expect(repairs.chatsReleased).not.toContain(chatId);
    expect(repairs.casesListed).not.toContain(d.id);
    expect(await caseOfChat(redis, chatId)).toBe(d.id);
  });
});
