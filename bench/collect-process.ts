import type { Update } from "grammy/types";
import { Redis } from "ioredis";
import { createAuditLog } from "../src/audit/record.ts";
import { chatIdOf, feed, UPDATES, updates, wholeBot } from "./collect.ts";

/**
 * One process of bench/collect.ts's "processes on one Redis" run: Warden's
 * whole bot handling its share of the load, the chats a load balancer routing
 * by chat gives it (chat index modulo the number of processes). It warms up,
 * says "ready", waits for "go", feeds its share, and reports its CPU time.
 * The parent has prepared the database (case and chats) and counts what was
 * lost or doubled afterwards.
 */

interface Share {
  url: string;
  part: number;
  parts: number;
}

const share = JSON.parse(process.env.BENCH_COLLECT_PROCESS ?? "{}") as Share;
const send = (message: unknown) => process.send?.(message);

function mine(u: Update): boolean {
  const chat = u.message?.chat.id as number;
  for (let c = share.part; ; c += share.parts) {
    if (chatIdOf(c) === chat) return true;
    if (chatIdOf(c) < chat) return false;
  }
}

const redis = new Redis(share.url);
const audit = createAuditLog({ redis });
const warden = wholeBot(redis, audit);
const all = updates(UPDATES + 2000);
const warmup = all.slice(0, 2000).filter(mine);
const list = all.slice(2000).filter(mine);
const handle = (u: Update) => warden.bot.handleUpdate(u);
await feed(handle, warmup);
process.once("message", async () => {
  const cpu = process.cpuUsage();
  await feed(handle, list);
  const used = process.cpuUsage(cpu);
  await warden.close();
  await audit.close();
  redis.disconnect();
  send({ cpu: used.user + used.system, handled: list.length });
  process.disconnect();
});
send({ ready: true });
