import { createConnection, createServer, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { entriesSince } from "../../src/audit/recent.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { info } from "../audit/helpers.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/**
 * A connection lost after Redis ran an append but before its reply arrived:
 * ioredis sends the command again on the new connection
 * (autoResendUnfulfilledCommands, its default), and the second run finds the
 * head moved by the first (or an intent's precondition set by it) and
 * refuses. The log sees that its batch is there after all (its last entry at
 * its seq with its leaf hash): nothing is appended twice, and an intent is
 * not refused by its own first write. A TCP proxy cuts the reply.
 */

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A TCP proxy to Redis that, once armed, cuts the client off instead of passing on the next reply holding `marker`. */
async function proxy(port: number, host: string) {
  let armed = false;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = createConnection({ port, host });
    sockets.push(client, upstream);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      // The append script's reply is the array [1, "ok"]: "*2\r\n:1\r\n$2\r\nok\r\n".
      if (armed && d.toString().includes("*2\r\n:1\r\n$2\r\nok")) {
        armed = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  const address = server.address() as { port: number };
  return { port: address.port, arm: () => (armed = true) };
}

describe("a lost reply to an append", () => {
  it("does not append the same entry twice", async () => {
    const url = new URL(await freshRedisUrl());
    const db = Number(url.pathname.slice(1));
    const p = await proxy(Number(url.port), url.hostname);
    const redis = new Redis({ host: "127.0.0.1", port: p.port, db });
    closers.push(() => redis.disconnect());
    const log = createAuditLog({ redis, software: { version: "0", commit: "t" } });
    await log.record(info("lost", "case.note", { n: 0 }));
    p.arm();
    await log.record(info("lost", "warn", { n: 1 }));
    const entries = await entriesSince(redis, "lost", 0);
    expect(entries.map((e) => `${e.op}:${String(e.params?.n)}`)).toEqual(["case.note:0", "warn:1"]);
    await log.close();
  });

  it("does not refuse an intent whose own first try wrote it", async () => {
    const url = new URL(await freshRedisUrl());
    const db = Number(url.pathname.slice(1));
    const p = await proxy(Number(url.port), url.hostname);
    const redis = new Redis({ host: "127.0.0.1", port: p.port, db });
    closers.push(() => redis.disconnect());
    const log = createAuditLog({ redis, software: { version: "0", commit: "t" } });
    await log.record(info("lost2", "case.note"));
    p.arm();
    const key = "warden:{lost2}:step:x";
    // As runStep sends a step's intent: refused if the step key exists, which it then sets.
    const intent = log.record(
      { ...info("lost2", "ban"), phase: "intent" },
      {
        preconditions: [{ key, exists: false, message: "already requested" }],
        writes: [["SET", key, '{"state":"pending"}']],
      },
    );
    // runStep would then read "pending" and report "unknown" without ever calling Telegram.
    await expect(intent).resolves.toMatchObject({ op: "ban" });
    await log.close();
  });
});
