/**
 * Simulator benchmark (not a test): Bot API throughput from one keep-alive
 * client, next to a bare fastify route measured in the same run, and the
 * median latency from injecting a member message to a long-polling grammY
 * handler seeing it. Loopback only, bounded in time.
 *
 *   npx tsx bench/sim.ts
 */
import { Agent, request } from "node:http";
import { pathToFileURL } from "node:url";
import Fastify from "fastify";
import { Bot } from "grammy";
import { startSimulator } from "../src/sim/index.ts";
import { median } from "./median.ts";

const PHASE_MS = 2000;
const CONCURRENCY = 8;
const LATENCY_SAMPLES = 100;
const THROUGHPUT_GOAL = 5000;
const LATENCY_GOAL_MS = 20;

/** Calls `request` from CONCURRENCY loops for PHASE_MS; returns calls per second. */
async function throughput(request: () => Promise<unknown>): Promise<number> {
  const warmUntil = Date.now() + 300;
  while (Date.now() < warmUntil) await request();
  let count = 0;
  const started = performance.now();
  const deadline = started + PHASE_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await request();
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** One keep-alive client: a pooled agent with CONCURRENCY sockets. */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, body: unknown): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const json = JSON.parse(Buffer.concat(chunks).toString()) as { ok: boolean };
          if (json.ok) resolve(json);
          else reject(new Error(`call failed: ${JSON.stringify(json)}`));
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export async function benchSimulator(): Promise<void> {
  const baseline = Fastify({ logger: false });
  baseline.post("/constant", async () => ({ ok: true, result: true }));
  await baseline.listen({ host: "127.0.0.1", port: 0 });
  const baselineAddress = baseline.server.address();
  const baselineUrl = `http://127.0.0.1:${typeof baselineAddress === "object" && baselineAddress ? baselineAddress.port : 0}/constant`;

  const sim = await startSimulator({ rateLimits: false });
  try {
    const c = sim.control;
    const { token, user: botUser } = await c.createBot({ username: "bench_bot" });
    const owner = await c.createUser({ first_name: "Owner" });
    const member = await c.createUser({ first_name: "Member" });
    const { id: group } = await c.createChat({
      type: "supergroup",
      title: "Bench",
      owner_id: owner.id,
    });
    await c.join(group, member.id);
    await c.promote(group, botUser.id, "all");
    const api = (method: string) => `${sim.apiRoot}/bot${token}/${method}`;

    const baselineRate = await throughput(() => post(baselineUrl, { chat_id: group }));
    const memberRate = await throughput(() =>
      post(api("getChatMember"), { chat_id: group, user_id: member.id }),
    );
    const sendRate = await throughput(() =>
      post(api("sendMessage"), { chat_id: group, text: "bench" }),
    );
    await post(api("getUpdates"), { offset: -1 });

    const bot = new Bot(token, { client: { apiRoot: sim.apiRoot } });
    let seen: ((at: number) => void) | undefined;
    bot.on("message:text", () => seen?.(performance.now()));
    void bot.start({ timeout: 30, drop_pending_updates: true });
    const latencies: number[] = [];
    const deadline = Date.now() + 10_000;
    while (latencies.length < LATENCY_SAMPLES && Date.now() < deadline) {
      while (!(await c.bot(botUser.id)).polling)
        await new Promise((resolve) => setTimeout(resolve, 1));
      const arrived = new Promise<number>((resolve) => {
        seen = resolve;
      });
      const injected = performance.now();
      await c.sendMessage(group, { from_id: member.id, text: "ping" });
      latencies.push((await arrived) - injected);
    }
    await bot.stop();

    const rows = [
      ["baseline: bare fastify route, constant JSON", baselineRate],
      ["simulator: getChatMember", memberRate],
      ["simulator: sendMessage (stores and delivers)", sendRate],
    ] as const;
    console.log(
      `Simulator benchmark (one client, keep-alive, ${CONCURRENCY} requests in flight, ${PHASE_MS} ms per phase)`,
    );
    for (const [label, rate] of rows)
      console.log(`  ${label.padEnd(48)} ${rate.toFixed(0).padStart(7)} calls/s`);
    const worst = Math.min(memberRate, sendRate);
    console.log(
      `  goal ≥ ${THROUGHPUT_GOAL} Bot API calls/s: measured ${worst.toFixed(0)} (${worst >= THROUGHPUT_GOAL ? "met" : "NOT met"}; ${((worst / baselineRate) * 100).toFixed(0)}% of baseline)`,
    );
    const latency = median(latencies);
    console.log(
      `  injected message → long-polling grammY handler: median ${latency.toFixed(2)} ms over ${latencies.length} samples (goal < ${LATENCY_GOAL_MS} ms: ${latency < LATENCY_GOAL_MS ? "met" : "NOT met"})`,
    );
  } finally {
    agent.destroy();
    await sim.close();
    await baseline.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchSimulator();
}
