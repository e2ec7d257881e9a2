/**
 * The HTTP surface: encodings, method-name casing, tokens, parameter errors,
 * uploads and downloads, rate limits and injected faults.
 */
import { Bot, InputFile } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Cast, drainUpdates, eventually, startCast } from "./helpers.ts";

let cast: Cast;
beforeEach(async () => {
  cast = await startCast();
});
afterEach(() => cast.sim.close());

const permissions = { can_send_messages: true, can_send_photos: false, can_send_polls: false };

async function memberView(userId: number) {
  const answer = await cast.api<Record<string, unknown>>("getChatMember", {
    chat_id: cast.group,
    user_id: userId,
  });
  const { user: _user, ...rest } = answer.body.result ?? {};
  return rest;
}

describe("parameter encodings", () => {
  it("gives the same result and state for query string, form, JSON and multipart", async () => {
    const c = cast.sim.control;
    const users = await Promise.all(
      ["Query", "Form", "Json", "Multipart"].map((first_name) => c.createUser({ first_name })),
    );
    for (const user of users) await c.join(cast.group, user.id);
    const [viaQuery, viaForm, viaJson, viaMultipart] = users.map((u) => u.id) as [
      number,
      number,
      number,
      number,
    ];
    const base = `${cast.sim.apiRoot}/bot${cast.token}/restrictChatMember`;
    const fields = (userId: number) => ({
      chat_id: String(cast.group),
      user_id: String(userId),
      permissions: JSON.stringify(permissions),
    });

    const responses = [
      await fetch(`${base}?${new URLSearchParams(fields(viaQuery))}`),
      await fetch(base, { method: "POST", body: new URLSearchParams(fields(viaForm)) }),
      await fetch(base, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: cast.group, user_id: viaJson, permissions }),
      }),
      await fetch(base, {
        method: "POST",
        body: (() => {
          const form = new FormData();
          for (const [key, value] of Object.entries(fields(viaMultipart))) form.append(key, value);
          return form;
        })(),
      }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.json()).toEqual({ ok: true, result: true });
    }
    const views = await Promise.all(users.map((u) => memberView(u.id)));
    expect(views[0]).toMatchObject({
      status: "restricted",
      can_send_messages: true,
      can_send_photos: false,
    });
    for (const view of views) expect(view).toEqual(views[0]);
  });

  it("treats method names case-insensitively", async () => {
    const response = await fetch(`${cast.sim.apiRoot}/bot${cast.token}/RESTRICTCHATMEMBER`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: cast.group, user_id: cast.bob.id, permissions }),
    });
    expect(await response.json()).toEqual({ ok: true, result: true });
    expect((await memberView(cast.bob.id)).status).toBe("restricted");
    const calls = await cast.sim.control.calls(0, { method: "restrictChatMember" });
    expect(calls).toHaveLength(1);
  });
});

describe("refusals", () => {
  it.each([
    [
      "an unknown token",
      "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "getMe",
      401,
      "Unauthorized",
    ],
    ["a malformed token", "not-a-token", "getMe", 401, "Unauthorized"],
  ])("answers %s with 401", async (_, token, method, status, description) => {
    const response = await fetch(`${cast.sim.apiRoot}/bot${token}/${method}`);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ ok: false, error_code: status, description });
  });

  it("separates unknown methods (404) from spec methods the simulator lacks (400)", async () => {
    const unknown = await cast.api("sendTelepathy");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      ok: false,
      error_code: 404,
      description: "Not Found: method not found",
    });
    const missing = await cast.api("sendSticker", { chat_id: cast.group, sticker: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.description).toBe(
      "Bad Request: method not supported by the simulator: sendSticker",
    );
  });

  it.each([
    ["sendMessage", { text: "hoi" }, "Bad Request: chat_id is empty"],
    ["sendMessage", { chat_id: -1 }, "Bad Request: message text is empty"],
    ["sendMessage", { chat_id: -1, text: "" }, "Bad Request: message text is empty"],
    ["deleteMessage", { chat_id: -1 }, "Bad Request: message identifier is not specified"],
    ["sendPhoto", { chat_id: -1 }, "Bad Request: there is no photo in the request"],
    [
      "restrictChatMember",
      { chat_id: -1, permissions: "{" },
      "Bad Request: invalid user_id specified",
    ],
  ])("checks %s parameters: %j", async (method, params, description) => {
    const answer = await cast.api(method, params);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ ok: false, error_code: 400, description });
  });

  it("parses HTML and refuses broken markup", async () => {
    const sent = await cast.api<{ text: string; entities: unknown[] }>("sendMessage", {
      chat_id: cast.group,
      text: "<b>Waarschuwing</b>: handel in <i>vuurwerk</i> is strafbaar",
      parse_mode: "HTML",
    });
    expect(sent.body.result?.text).toBe("Waarschuwing: handel in vuurwerk is strafbaar");
    expect(sent.body.result?.entities).toEqual([
      { type: "bold", offset: 0, length: 12 },
      { type: "italic", offset: 24, length: 8 },
    ]);
    const markdown = await cast.api<{ text: string; entities: unknown[] }>("sendMessage", {
      chat_id: cast.group,
      text: "*Let op*: `15.00` euro\\.",
      parse_mode: "MarkdownV2",
    });
    expect(markdown.body.result).toMatchObject({
      text: "Let op: 15.00 euro.",
      entities: [
        { type: "bold", offset: 0, length: 6 },
        { type: "code", offset: 8, length: 5 },
      ],
    });
    const unescaped = await cast.api("sendMessage", {
      chat_id: cast.group,
      text: "15.",
      parse_mode: "MarkdownV2",
    });
    expect(unescaped.body.description).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    );
    const broken = await cast.api("sendMessage", {
      chat_id: cast.group,
      text: "<blink>x</blink>",
      parse_mode: "HTML",
    });
    expect(broken.body.description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
    );
  });
});

describe("long polls", () => {
  const longPolls: [string, (url: string) => [string, RequestInit]][] = [
    [
      "as POST with a JSON body",
      (url) => [
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ timeout: 30 }),
        },
      ],
    ],
    ["as GET with a query string", (url) => [`${url}?timeout=30`, { method: "GET" }]],
  ];

  it.each(longPolls)("notices when a client cancels a long poll sent %s", async (_, request) => {
    await drainUpdates(cast.api);
    const polling = async () => (await cast.sim.control.bot(cast.bot.id)).polling;
    const client = new AbortController();
    const [url, init] = request(`${cast.sim.apiRoot}/bot${cast.token}/getUpdates`);
    const poll = fetch(url, { ...init, signal: client.signal });
    await eventually(polling);
    client.abort();
    await expect(poll).rejects.toThrow(/abort/i);
    await eventually(async () => !(await polling()));
  });
});

describe("files", () => {
  it("accepts grammY's multipart uploads and serves the file back", async () => {
    const bot = new Bot(cast.token, { client: { apiRoot: cast.sim.apiRoot } });
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEUlEQVR42mNkYPhfz0AEYBxVSF8AFmgCBKnHWG0AAAAASUVORK5CYII=",
      "base64",
    );
    const sent = await bot.api.sendPhoto(cast.group, new InputFile(png, "bewijs.png"), {
      caption: "bewijs #1",
    });
    expect(sent.caption).toBe("bewijs #1");
    const size = sent.photo?.[0];
    expect(size).toMatchObject({ width: 2, height: 3, file_size: png.length });
    const file = await bot.api.getFile(size?.file_id ?? "");
    const download = await fetch(`${cast.sim.apiRoot}/file/bot${cast.token}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(png);

    const doc = await bot.api.sendDocument(
      cast.group,
      new InputFile(Buffer.from("a,b\n1,2\n"), "deals.csv"),
    );
    expect(doc.document).toMatchObject({ file_name: "deals.csv", file_size: 8 });
    const again = await bot.api.sendDocument(cast.group, doc.document?.file_id ?? "");
    expect(again.document?.file_id).toBe(doc.document?.file_id);
  });

  it("accepts a file part named after the parameter itself", async () => {
    const form = new FormData();
    form.append("chat_id", String(cast.group));
    form.append("document", new Blob([Buffer.from("log")]), "log.txt");
    const response = await fetch(`${cast.sim.apiRoot}/bot${cast.token}/sendDocument`, {
      method: "POST",
      body: form,
    });
    const body = (await response.json()) as {
      ok: boolean;
      result: { document: { file_name: string } };
    };
    expect(body.result.document.file_name).toBe("log.txt");
  });
});

describe("rate limits and faults", () => {
  it("answers the 21st message in a minute to one group with 429 and Retry-After", async () => {
    await cast.sim.control.setRateLimits(true, true);
    for (let i = 0; i < 20; i++) {
      expect(
        (await cast.api("sendMessage", { chat_id: cast.group, text: `bericht ${i}` })).status,
      ).toBe(200);
    }
    const limited = await cast.api("sendMessage", { chat_id: cast.group, text: "een te veel" });
    expect(limited.status).toBe(429);
    const retryAfter = limited.body.parameters?.retry_after ?? 0;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.description).toBe(`Too Many Requests: retry after ${retryAfter}`);
    expect(limited.headers.get("retry-after")).toBe(String(retryAfter));
    await cast.sim.control.setRateLimits(false);
    expect(
      (await cast.api("sendMessage", { chat_id: cast.group, text: "zonder limiet" })).status,
    ).toBe(200);
  });

  it("limits a private chat to a small burst", async () => {
    await cast.sim.control.setRateLimits(true, true);
    await cast.sim.control.sendMessage(cast.alice.id, { from_id: cast.alice.id, text: "/start" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await cast.api("sendMessage", { chat_id: cast.alice.id, text: `${i}` })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("fails the next N calls of a method as told, then recovers", async () => {
    await cast.sim.control.injectFault({
      method: "getChat",
      count: 2,
      error_code: 502,
      description: "Bad Gateway",
    });
    await cast.sim.control.injectFault({ method: "getMe", count: 1, latency_ms: 3000 });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await cast.api("getChat", { chat_id: cast.group })).status);
    expect(statuses).toEqual([502, 502, 200]);
    // The slow call is held: once the simulator has taken its fault, it is still unanswered.
    let answered = false;
    const slow = cast.api("getMe").then((r) => {
      answered = true;
      return r;
    });
    await eventually(async () => {
      const faults = (await fetch(`${cast.sim.url}/sim/faults`).then((r) => r.json())) as {
        result: { method: string; remaining: number }[];
      };
      return !faults.result.some((f) => f.method === "getme");
    });
    expect(answered).toBe(false);
    expect((await slow).status).toBe(200);
  });
});
