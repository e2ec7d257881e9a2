import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRole, createCase } from "../../src/actions/case-changes.ts";
import { entriesSince } from "../../src/audit/recent.ts";
import { buildConsole } from "../../src/cli/console/server.ts";
import { freshLog, operator } from "../audit/helpers.ts";
import { launchBrowser, screenshot, type TestBrowser } from "../helpers/browser.ts";

/**
 * The console's API and its guards: problems shown before a rehearsal
 * starts (and a start refused), a live case read only with the token, a
 * role and a justification, and logged as consult; posts that are not JSON
 * refused; `warden console` listening on loopback and printing its URL.
 */

let browser: TestBrowser;
let app: FastifyInstance;
let base: string;
let store: Awaited<ReturnType<typeof freshLog>> | undefined;
const TOKEN = "a-token-for-tests-only";

beforeAll(async () => {
  const scenarios = join(mkdtempSync(join(tmpdir(), "warden-console-lint-")), "scenarios");
  mkdirSync(scenarios);
  cpSync("scenarios/fireworks-takeover.yaml", join(scenarios, "fireworks-takeover.yaml"));
  // A scenario with a mistake on a known line: an admin right that does not exist.
  writeFileSync(
    join(scenarios, "broken.yaml"),
    readFileSync("scenarios/fireworks-takeover.yaml", "utf8")
      .replace("id: fireworks-takeover", "id: broken")
      .replace("rights: [can_change_info,", "rights: [can_change_infos,"),
  );
  app = await buildConsole({
    token: TOKEN,
    dataDir: join(scenarios, "..", "var"),
    scenariosDir: scenarios,
    logger: pino({ level: "silent" }),
    async openStore() {
      if (!store) throw new Error("no store in this test");
      return { redis: store.redis, audit: store.log };
    },
  });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("before a rehearsal starts", () => {
  it("shows a scenario's problems with file:line:column and does not start it", async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.locator("#lint").waitFor();
    await page.selectOption("#scenario", "broken");
    const problem = page.locator("#problems li.error").first();
    await problem.waitFor();
    expect(await problem.locator("code.where").textContent()).toMatch(/broken\.yaml:\d+:\d+$/);
    expect(await problem.textContent()).toContain("can_change_infos");
    expect(await page.locator("#start").isDisabled()).toBe(true);
    await screenshot(page, "home-lint");
    await page.close();

    const refused = await post("/api/rehearsals", { scenario: "broken" });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { problems: { line: number; column: number }[] };
    expect(body.problems[0]?.line).toBeGreaterThan(1);
    const unknownWorld = await post("/api/rehearsals", {
      scenario: "fireworks-takeover",
      world: "atlantis",
    });
    expect(unknownWorld.status).toBe(400);
    expect(JSON.stringify(await unknownWorld.json())).toContain('there is no world \\"atlantis\\"');
    expect((await (await fetch(`${base}/api/rehearsals`)).json()) as unknown[]).toEqual([]);
  }, 180_000);

  it("refuses a post that is not JSON (a page elsewhere cannot make a browser start one)", async () => {
    const res = await fetch(`${base}/api/rehearsals`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ scenario: "fireworks-takeover" }),
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
  }, 180_000);

  it("answers only requests addressed to a loopback name (no DNS rebinding)", async () => {
    const { port } = new URL(base);
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port: Number(port), path: "/api/catalogue", headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    expect(await status(`evil.example:${port}`)).toBe(421);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
  }, 180_000);
});

describe("a rehearsal that fails", () => {
  it("says on its page what failed, and the console carries on", async () => {
    // Nothing listens on port 1: the rehearsal cannot reach its Redis.
    const failing = await buildConsole({
      token: TOKEN,
      dataDir: mkdtempSync(join(tmpdir(), "warden-console-fail-")),
      redisUrl: "redis://127.0.0.1:1",
      redisConnectTimeoutMs: 1000,
      logger: pino({ level: "silent" }),
    });
    const url = await failing.listen({ host: "127.0.0.1", port: 0 });
    try {
      const started = await fetch(`${url}/api/rehearsals`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario: "fireworks-takeover", speed: 0 }),
      });
      expect(started.status).toBe(201);
      const { id } = (await started.json()) as { id: string };
      const page = await browser.newPage();
      await page.goto(`${url}/rehearsals/${id}`);
      const failure = page.locator("#failure");
      await failure.waitFor({ timeout: 60_000 });
      expect(await failure.textContent()).toMatch(/^The rehearsal failed: .*Redis/);
      expect(await page.locator("#state").textContent()).toBe("failed");
      await screenshot(page, "studio-failed");
      await page.close();
      expect((await fetch(`${url}/api/catalogue`)).status).toBe(200);
      const state = (await (await fetch(`${url}/api/rehearsals/${id}`)).json()) as {
        state: string;
      };
      expect(state.state).toBe("failed");
    } finally {
      await failing.close();
    }
  }, 180_000);
});

describe("a live case", () => {
  it("is read only with the token, a role in the case and a justification, and each look is logged as consult", async () => {
    store = await freshLog();
    const deps = { redis: store.redis, audit: store.log, actor: operator };
    await createCase(deps, {
      id: "op-console",
      title: "Vuurwerk",
      authority: "OM-2026-1",
      purpose: "stop trade",
      retentionDays: 180,
    });
    await addRole(deps, "op-console", { userId: 5550009, role: "auditor", name: "Oversight" });
    const read = (body: unknown, token?: string) =>
      post("/api/cases/op-console/read", body, token ? { authorization: `Bearer ${token}` } : {});

    expect((await read({ userId: 5550009, justification: "quarterly review" })).status).toBe(401);
    expect(
      (await read({ userId: 5550009, justification: "quarterly review" }, "wrong")).status,
    ).toBe(401);
    const stranger = await read({ userId: 4440001, justification: "quarterly review" }, TOKEN);
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { error: string }).error).toContain("holds no role");
    expect((await read({ userId: 5550009, justification: "x" }, TOKEN)).status).toBe(400);
    const before = await entriesSince(store.redis, "op-console", 0);
    expect(before.some((e) => e.op === "consult")).toBe(false);

    const ok = await read({ userId: 5550009, justification: "quarterly review" }, TOKEN);
    expect(ok.status).toBe(200);
    const reading = (await ok.json()) as { consultSeq: number; entries: { op: string }[] };
    const consult = (await entriesSince(store.redis, "op-console", 0)).find(
      (e) => e.seq === reading.consultSeq,
    );
    expect(consult).toMatchObject({
      op: "consult",
      justification: "quarterly review",
      actor: { id: 5550009, role: "auditor", name: "Oversight" },
      params: { via: "console" },
    });
    // The look itself is in what it shows.
    expect(reading.entries.at(-1)?.op).toBe("consult");

    // And through the page.
    const page = await browser.newPage();
    await page.goto(`${base}/cases/op-console`);
    await page.fill("#token", TOKEN);
    await page.fill("#user", "5550009");
    await page.fill("#justification", "second look for the report");
    await page.click("#consult-form button");
    await page.locator("#verdict").waitFor();
    expect(await page.locator("#app p.ok").textContent()).toMatch(/on the record as entry \d+/);
    await page.close();
  }, 180_000);
});

describe("warden console", () => {
  it("listens on loopback, prints its URL and token, and serves its pages and scripts itself", async () => {
    const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));
    const child = spawn(process.execPath, [bin, "console", "--port", "0"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        WARDEN_ENV_FILE: "none",
        LOG_LEVEL: "warn",
        WARDEN_DATA_DIR: mkdtempSync(join(tmpdir(), "warden-console-cli-")),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /Warden console: (http:\/\/\S+)\n[\s\S]*token[^:]*: (\S+)\n/.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.on("close", (code) => reject(new Error(`warden console exited ${code}: ${out}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const home = await fetch(url);
      expect(home.status).toBe(200);
      const html = await home.text();
      for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
        expect(src[1]).toMatch(/^\/(assets\/)?/);
        if (src[1]?.startsWith("/assets/"))
          expect((await fetch(new URL(src[1], url))).status).toBe(200);
      }
    } finally {
      child.kill("SIGTERM");
    }
  }, 180_000);
});
