import { afterEach, describe, expect, it } from "vitest";
import {
  addChat,
  addRole,
  closeCase,
  createCase,
  InputError,
  type RegistryDeps,
  removeRole,
  setControlRoom,
} from "../../src/actions/case-changes.ts";
import { createAuditLog, RecordRefusedError } from "../../src/audit/record.ts";
import {
  caseOfChat,
  chatByAlias,
  getCase,
  listCases,
  listChats,
  listRoles,
} from "../../src/store/cases.ts";
import type { Redis } from "../../src/store/redis.ts";
import { connectRedis, type RedisConnection } from "../../src/store/redis.ts";
import { auditEntries } from "../helpers/audit.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/** The store behaves the same on a real redis-server and on the embedded default. */
const backends: Array<[string, () => Promise<string | undefined>]> = [
  ["real redis-server", freshRedisUrl],
  ["embedded default", async () => undefined],
];

let embeddedCount = 0;

const opened: RedisConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

async function setup(url: string | undefined): Promise<RegistryDeps & { redis: Redis }> {
  const connection = await connectRedis({
    url,
    embeddedName: `test-${process.pid}-${embeddedCount++}`,
  });
  opened.push(connection);
  const redis = connection.redis;
  return { redis, audit: createAuditLog({ redis }), actor: { kind: "cli", name: "tester@server" } };
}

async function snapshot(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await redis.keys("*")).sort()) {
    const type = await redis.type(key);
    if (type === "hash") out[key] = JSON.stringify(await redis.hgetall(key));
    else if (type === "set") out[key] = JSON.stringify((await redis.smembers(key)).sort());
    else if (type === "stream") out[key] = JSON.stringify(await redis.xrange(key, "-", "+"));
    else out[key] = type;
  }
  return out;
}

const opFw = {
  id: "op-fw",
  title: "Vuurwerkgroepen",
  authority: "OM-2026-0142",
  purpose: "stop trade",
  retentionDays: 180,
};

describe.each(backends)("case registry on the %s", (_name, url) => {
  it("creates a case with roles and chats, and keeps every key under the layout", async () => {
    const deps = await setup(await url());
    const created = await createCase(deps, opFw);
    expect(created).toMatchObject({ ...opFw, status: "open", createdBy: "tester@server" });
    await addRole(deps, "op-fw", { userId: 5550001, role: "operator", name: "Duty officer 1" });
    await addRole(deps, "op-fw", { userId: 5550002, role: "supervisor", name: "Supervisor" });
    await addChat(deps, "op-fw", { chatId: -1001234567890, alias: "fw1" });
    await setControlRoom(deps, "op-fw", -1009999);

    expect(await getCase(deps.redis, "op-fw")).toMatchObject({ controlRoom: -1009999 });
    expect((await listCases(deps.redis)).map((c) => c.id)).toEqual(["op-fw"]);
    expect((await listRoles(deps.redis, "op-fw")).map((r) => [r.userId, r.role])).toEqual([
      [5550001, "operator"],
      [5550002, "supervisor"],
    ]);
    expect(await listChats(deps.redis, "op-fw")).toMatchObject([
      { chatId: -1001234567890, alias: "fw1" },
    ]);
    expect(await chatByAlias(deps.redis, "op-fw", "fw1")).toMatchObject({ chatId: -1001234567890 });
    expect(await caseOfChat(deps.redis, -1001234567890)).toBe("op-fw");

    // ioredis-mock also lists its own per-entry "stream:…" bookkeeping keys; a real server does not.
    const keys = (await deps.redis.keys("*")).filter((k) => !k.startsWith("stream:"));
    expect(keys.length).toBeGreaterThanOrEqual(7);
    for (const key of keys) {
      expect(key).toMatch(/^warden:(\{op-fw\}:|global:)/);
    }
    // Every mutation is one audit entry, in order.
    const entries = await auditEntries(deps.redis, "op-fw");
    expect(entries.map((e) => [e.seq, e.op])).toEqual([
      [1, "case.create"],
      [2, "role.add"],
      [3, "role.add"],
      [4, "chat.add"],
      [5, "config"],
    ]);
  });

  it("refuses bad input with a clear message and writes nothing", async () => {
    const deps = await setup(await url());
    await createCase(deps, opFw);
    await addChat(deps, "op-fw", { chatId: -1001234567890, alias: "fw1" });
    await addRole(deps, "op-fw", { userId: 5550001, role: "operator", name: "Duty officer 1" });
    const before = await snapshot(deps.redis);

    await expect(createCase(deps, opFw)).rejects.toThrow(RecordRefusedError);
    await expect(createCase(deps, opFw)).rejects.toThrow(/already exists/);
    await expect(createCase(deps, { ...opFw, id: "Bad Id" })).rejects.toThrow(InputError);
    await expect(createCase(deps, { ...opFw, id: "op-2", retentionDays: 0 })).rejects.toThrow(
      /positive/,
    );
    await expect(addRole(deps, "nope", { userId: 1, role: "operator", name: "x" })).rejects.toThrow(
      /unknown case "nope"/,
    );
    await expect(
      addRole(deps, "op-fw", { userId: 5550001, role: "auditor", name: "x" }),
    ).rejects.toThrow(/already holds/);
    await expect(addChat(deps, "op-fw", { chatId: -100777, alias: "fw1" })).rejects.toThrow(
      /already used/,
    );
    await expect(addChat(deps, "op-fw", { chatId: -1001234567890, alias: "fw2" })).rejects.toThrow(
      /already seized/,
    );
    await expect(addChat(deps, "op-fw", { chatId: -100777, alias: "FW 2" })).rejects.toThrow(
      /not valid/,
    );
    await expect(removeRole(deps, "op-fw", 42)).rejects.toThrow(/holds no role/);

    expect(await snapshot(deps.redis)).toEqual(before);
  });

  it("closes a case, after which it can no longer change", async () => {
    const deps = await setup(await url());
    await createCase(deps, opFw);
    await addRole(deps, "op-fw", { userId: 7, role: "auditor", name: "Auditor" });
    await removeRole(deps, "op-fw", 7);
    expect(await listRoles(deps.redis, "op-fw")).toEqual([]);
    await closeCase(deps, "op-fw");
    expect(await getCase(deps.redis, "op-fw")).toMatchObject({
      status: "closed",
      closedBy: "tester@server",
    });
    await expect(
      addRole(deps, "op-fw", { userId: 8, role: "operator", name: "x" }),
    ).rejects.toThrow(/closed/);
  });
});

describe("two writers", () => {
  it("racing to create the same case: exactly one wins", async () => {
    const url = await freshRedisUrl();
    const a = await setup(url);
    const b = await setup(url);
    const results = await Promise.allSettled([createCase(a, opFw), createCase(b, opFw)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await a.redis.xlen("warden:{op-fw}:audit")).toBe(1);
  });
});
