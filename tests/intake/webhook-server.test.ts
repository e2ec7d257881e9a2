import { connect } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWebhookServer,
  secretMatches,
  type WebhookServer,
} from "../../src/bot/intake/webhook-server.ts";
import { eventually } from "../helpers/warden.ts";

/**
 * The webhook's HTTP side on its own (src/bot/intake/webhook-server.ts): what
 * it refuses and how, and that it answers 200 only once the update is queued.
 * The whole path, with the simulator and Redis, is in webhook.test.ts.
 */

const SECRET = "the-right-secret_0123456789";
const servers: WebhookServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

interface Started {
  url: string;
  port: number;
  accepted: Array<{ updateId: number; json: string }>;
}

async function start(
  opts: {
    accept?: (updateId: number, json: string) => Promise<unknown>;
    reachable?: () => Promise<boolean>;
    acceptTimeoutMs?: number;
  } = {},
): Promise<Started> {
  const accepted: Started["accepted"] = [];
  const server = createWebhookServer({
    url: "https://warden.example/telegram/hook",
    secret: SECRET,
    host: "127.0.0.1",
    port: 0,
    status: () => ({ mode: "webhook", role: "consumer" }),
    logger: pino({ level: "silent" }),
    accept: async (updateId, json) => {
      accepted.push({ updateId, json });
      return opts.accept?.(updateId, json);
    },
    storeReachable: opts.reachable ?? (async () => true),
    ...(opts.acceptTimeoutMs !== undefined ? { acceptTimeoutMs: opts.acceptTimeoutMs } : {}),
  });
  servers.push(server);
  const port = await server.listen();
  return { url: `http://127.0.0.1:${port}/telegram/hook`, port, accepted };
}

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const withSecret = { "x-telegram-bot-api-secret-token": SECRET };
const anUpdate = JSON.stringify({
  update_id: 41,
  message: { message_id: 1, date: 1, chat: { id: -100, type: "supergroup" }, text: "hoi" },
});

/**
 * Sends a request's head announcing `length` body bytes and then only `sent`
 * of them, and resolves with what the server answered and whether it closed
 * the connection — without the rest of the body ever being sent.
 */
function headOnly(
  port: number,
  headers: Record<string, string>,
  length: number | "chunked",
  sent: number,
): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    socket.on("data", (d: Buffer) => {
      response += d.toString();
    });
    // The server hangs up on a body it will not read: a reset may follow its answer.
    socket.on("error", () => undefined);
    socket.on("close", () => resolve({ response, closed: true }));
    socket.on("connect", () => {
      const head = [
        "POST /telegram/hook HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        "",
        "",
      ].join("\r\n");
      socket.write(head);
      const body = Buffer.alloc(sent, 0x20);
      socket.write(
        length === "chunked"
          ? Buffer.concat([Buffer.from(`${sent.toString(16)}\r\n`), body, Buffer.from("\r\n")])
          : body,
      );
    });
  });
}

describe("the webhook's HTTP side", () => {
  it("compares the secret in constant time whatever the lengths", () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches(`${SECRET}x`, SECRET)).toBe(false);
    expect(secretMatches(SECRET.slice(0, -1), SECRET)).toBe(false);
    expect(secretMatches(undefined, SECRET)).toBe(false);
    expect(secretMatches([SECRET, SECRET], SECRET)).toBe(false);
  });

  it("answers 401 to a request without the right secret, and never reads its body", async () => {
    const s = await start();
    expect((await post(s.url, anUpdate)).status).toBe(401);
    expect(
      (await post(s.url, anUpdate, { "x-telegram-bot-api-secret-token": "wrong" })).status,
    ).toBe(401);
    const sameLength = SECRET.replace(/^t/, "T");
    expect(
      (await post(s.url, anUpdate, { "x-telegram-bot-api-secret-token": sameLength })).status,
    ).toBe(401);
    // A gigabyte announced, 64 KiB sent: answered and hung up on without waiting for the rest.
    const huge = await headOnly(
      s.port,
      { "X-Telegram-Bot-Api-Secret-Token": "wrong" },
      1024 * 1024 * 1024,
      64 * 1024,
    );
    expect(huge.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(huge.closed).toBe(true);
    // However the path is spelt, the route that takes updates checks the secret.
    const base = `http://127.0.0.1:${s.port}`;
    for (const spelling of ["/telegram/%68ook", "/telegram/hook?x=1", "/telegram/h%6Fok"]) {
      const res = await post(`${base}${spelling}`, anUpdate);
      expect([spelling, res.status]).toEqual([spelling, 401]);
    }
    expect(s.accepted).toEqual([]);
  });

  it("answers 413 to a body over 1 MiB, announced or not", async () => {
    const s = await start();
    const announced = await headOnly(
      s.port,
      { "X-Telegram-Bot-Api-Secret-Token": SECRET },
      2 * 1024 * 1024,
      1024,
    );
    expect(announced.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(announced.closed).toBe(true);
    // Streamed without a length (chunked): cut off once past the limit.
    const streamed = await headOnly(
      s.port,
      { "X-Telegram-Bot-Api-Secret-Token": SECRET },
      "chunked",
      1024 * 1024 + 1,
    );
    expect(streamed.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(s.accepted).toEqual([]);
  });

  it("answers 400 to what is not a Telegram update, 415 to what is not JSON", async () => {
    const s = await start();
    for (const body of [
      "{not json",
      "",
      "[]",
      "null",
      '"text"',
      "{}",
      '{"update_id":"41"}',
      '{"update_id":-1}',
      '{"update_id":1.5}',
      '{"update_id":1,"__proto__":{"polluted":true}}',
    ]) {
      const res = await post(s.url, body, withSecret);
      expect([body, res.status]).toEqual([body, 400]);
    }
    const text = await fetch(s.url, {
      method: "POST",
      headers: { "content-type": "text/plain", ...withSecret },
      body: anUpdate,
    });
    expect(text.status).toBe(415);
    expect(s.accepted).toEqual([]);
  });

  it("answers 200 only once the update is queued", async () => {
    let queued: () => void = () => undefined;
    const s = await start({
      accept: () =>
        new Promise<void>((resolve) => {
          queued = resolve;
        }),
    });
    let answered = false;
    const response = post(s.url, anUpdate, withSecret).then((r) => {
      answered = true;
      return r;
    });
    await eventually(() => s.accepted.length === 1);
    // A round trip to the server later, still no answer: it waits for the queue.
    expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    expect(answered).toBe(false);
    queued();
    expect((await response).status).toBe(200);
    expect(s.accepted[0]?.updateId).toBe(41);
    expect(JSON.parse(s.accepted[0]?.json ?? "")).toEqual(JSON.parse(anUpdate));
  });

  it("answers 503 when the update cannot be queued (Redis down, or not answering in time)", async () => {
    const failing = await start({
      accept: () => Promise.reject(new Error("Connection is closed.")),
    });
    expect((await post(failing.url, anUpdate, withSecret)).status).toBe(503);
    const hanging = await start({
      accept: () => new Promise(() => undefined),
      acceptTimeoutMs: 50,
    });
    expect((await post(hanging.url, anUpdate, withSecret)).status).toBe(503);
  });

  it("says it is alive, and ready only while Redis answers", async () => {
    let reachable = true;
    const s = await start({ reachable: async () => reachable });
    const base = `http://127.0.0.1:${s.port}`;
    const alive = await fetch(`${base}/healthz`);
    expect([alive.status, await alive.json()]).toEqual([200, { alive: true }]);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { ready: true, mode: "webhook", role: "consumer" },
    ]);
    reachable = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ready: false, mode: "webhook", role: "consumer" });
  });
});
