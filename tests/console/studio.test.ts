import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../../src/cli/console/server.ts";
import { launchBrowser, screenshot, type TestBrowser } from "../helpers/browser.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/**
 * The console in Debian's chromium, end to end: the fireworks rehearsal
 * started from the page, approved from the control room pane, followed to a
 * verified log; its bundle read as an auditor, then tampered with; the
 * auditor's view driven by keyboard alone. The world's Kevin Hendriks is
 * renamed to HTML with a right-to-left override and a zero-width space, so
 * every pane shows such a name as text.
 */

const HOSTILE = '<img src=x onerror="window.__pwned=1">Kev\u202Enik\u200Bx';
const HOSTILE_SHOWN = '<img src=x onerror="window.__pwned=1">Kev[U+202E]nik[U+200B]x';
const TAKEN = "Deze groep is overgenomen door de politie";
const LONG = 120_000;

let browser: TestBrowser;
let app: FastifyInstance;
let base: string;
let dataDir: string;
let bundleDir: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "warden-console-"));
  const scenarios = join(root, "scenarios");
  mkdirSync(join(scenarios, "worlds"), { recursive: true });
  cpSync("scenarios/fireworks-takeover.yaml", join(scenarios, "fireworks-takeover.yaml"));
  const world = readFileSync("scenarios/worlds/fireworks.yaml", "utf8").replace(
    "{ key: kevin, first_name: Kevin,",
    `{ key: kevin, first_name: ${JSON.stringify(HOSTILE)},`,
  );
  expect(world).toContain("onerror");
  writeFileSync(join(scenarios, "worlds", "fireworks.yaml"), world);
  dataDir = join(root, "var");
  app = await buildConsole({
    token: "test-token",
    dataDir,
    scenariosDir: scenarios,
    redisUrl: await freshRedisUrl(),
    logger: pino({ level: "silent" }),
  });
  base = (await app.listen({ host: "127.0.0.1", port: 0 })).replace("localhost", "127.0.0.1");
  browser = await launchBrowser({ width: 1500, height: 1100 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Requests that leave the console: there must be none (no CDN, nothing fetched elsewhere). */
function offline(page: Page): string[] {
  const elsewhere: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) elsewhere.push(r.url());
  });
  return elsewhere;
}

async function approveInControlRoom(page: Page) {
  const approve = page.locator("#control-room button.answer", { hasText: "Approve" });
  await approve.first().waitFor({ timeout: LONG });
  await approve.first().click();
}

describe("the rehearsal studio", () => {
  it("starts the fireworks rehearsal from the page, shows the takeover as a member sees it, takes the supervisor's Approve and ends with a verified log", async () => {
    const page = await browser.newPage();
    const elsewhere = offline(page);
    await page.goto(base);
    await page.locator("#lint p.ok").waitFor();
    expect(await page.locator("#lint").textContent()).toContain("No problems found");
    await page.selectOption("#scenario", "fireworks-takeover");
    await page.selectOption("#world", "fireworks");
    await page.selectOption("#speed", "0");
    await screenshot(page, "home");
    await page.click("#start");
    await page.waitForURL(/\/rehearsals\/[0-9a-f]+$/);
    const id = page.url().split("/").pop() as string;

    // The scenario needs a supervisor before it starts: the request waits in the control room pane.
    await page.locator("#control-room .attention").waitFor({ timeout: LONG });
    expect(await page.locator("#group-title").textContent()).toBe("Vuurwerk Deals NL");
    expect(await page.locator("#group-messages").textContent()).toContain(
      `${HOSTILE_SHOWN} Hendriks`,
    );
    await screenshot(page, "studio-approval");

    // A second tab on the same rehearsal follows it too.
    const second = await browser.newPage();
    await second.goto(`${base}/rehearsals/${id}`);
    await second.locator("#control-room button.answer").first().waitFor({ timeout: LONG });

    await approveInControlRoom(page);
    await page.locator("#group-title", { hasText: TAKEN }).waitFor({ timeout: LONG });
    await page.locator("#pinned", { hasText: TAKEN }).waitFor({ timeout: LONG });
    await second.locator("#group-title", { hasText: TAKEN }).waitFor({ timeout: LONG });
    expect(await page.locator("#permissions").textContent()).toContain("Not allowed:");
    expect(await page.locator("#timeline .steps li.done").count()).toBeGreaterThan(0);
    expect(await page.locator("#audit .entry").count()).toBeGreaterThan(20);
    await screenshot(page, "studio-member-view");

    // Three days later the scenario asks again, to release the group.
    await approveInControlRoom(page);
    await page.locator("#result.ok").waitFor({ timeout: LONG });
    expect(await page.locator("#result").textContent()).toContain(
      "The run finished and its audit log verified.",
    );
    expect(await page.locator("#state").textContent()).toBe("finished");
    await second.locator("#result.ok").waitFor({ timeout: LONG });
    await screenshot(page, "studio-finished");

    // A tab that connects again catches up at once.
    await second.reload();
    await second.locator("#result.ok").waitFor({ timeout: LONG });
    await second.close();

    // The same data, for other tools.
    const api = (await (await fetch(`${base}/api/rehearsals/${id}`)).json()) as {
      state: string;
      chats: { group: { title: string } };
      transcript: string[];
      result: { verified: boolean; exportDir: string };
    };
    expect(api.state).toBe("finished");
    expect(api.chats.group.title).toBe(TAKEN);
    expect(api.transcript.length).toBeGreaterThan(10);
    expect(api.result.verified).toBe(true);
    bundleDir = api.result.exportDir;

    // The private chats: a member wrote to the bot, and their answer was recorded.
    expect(await page.locator("#private-chats .tabs button").count()).toBeGreaterThan(0);
    expect(await page.locator("#private-chats .recorded").count()).toBeGreaterThan(0);

    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("#app img").count()).toBe(0);
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 180_000);

  it("reads the rehearsal's bundle as an auditor: verdict in words, simulated time, who started and who approved", async () => {
    const page = await browser.newPage();
    const elsewhere = offline(page);
    await page.goto(`${base}/bundle?dir=${encodeURIComponent(bundleDir)}`);
    const verdict = page.locator("#verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-status")).toBe("warnings");
    expect(await verdict.locator(".not-verified").textContent()).toContain(
      "it was shipped inside the bundle",
    );
    expect(await verdict.locator(".verified").textContent()).toContain(
      "report.html: rebuilt from the verified entries: identical",
    );
    expect(await page.locator("#case-meta").textContent()).toContain("simulated");
    const lockdown = page.locator("tr.action", { hasText: "locked the group down" }).first();
    const who = await lockdown.locator("td.who").textContent();
    expect(who).toContain("Duty officer (operator");
    expect(who).toContain("run approved by Team lead (supervisor)");
    expect(await lockdown.locator("td.when").textContent()).toMatch(/^2026-12-27 19:0/);
    expect(await page.locator("#summary").textContent()).toContain("Team lead (supervisor");
    // Members the log names by id carry the names the rehearsal's world gave them, shown as text.
    const members = await page.locator("#f-member option").allTextContents();
    expect(members.some((m) => m.startsWith(`${HOSTILE_SHOWN} Hendriks (`))).toBe(true);
    expect(await page.locator("#app img").count()).toBe(0);
    await screenshot(page, "auditor-rehearsal");
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 180_000);

  it("shows a tampered bundle's failure first and in red", async () => {
    const copy = join(mkdtempSync(join(tmpdir(), "warden-tampered-")), "bundle");
    cpSync(bundleDir, copy, { recursive: true });
    const file = join(copy, "entries.jsonl");
    writeFileSync(file, readFileSync(file, "utf8").replace("Team lead", "Team leed"));
    const page = await browser.newPage();
    await page.goto(`${base}/bundle?dir=${encodeURIComponent(copy)}`);
    const verdict = page.locator("#verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-status")).toBe("failed");
    expect(await verdict.locator(".headline").textContent()).toBe(
      "NOT VERIFIED: the log fails: entries.jsonl was changed after export: its SHA-256 does not match manifest.sha256. Nothing from that point on can be trusted.",
    );
    expect(await verdict.locator(".headline").evaluate((h) => getComputedStyle(h).color)).toBe(
      "rgb(176, 0, 0)",
    );
    expect(await page.locator("#reading > section").first().getAttribute("id")).toBe("verdict");
    expect(await page.title()).toMatch(/^NOT VERIFIED/);
    await screenshot(page, "auditor-tampered");
    await page.close();
  }, 180_000);

  it("can be read by keyboard alone", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/bundle?dir=${encodeURIComponent(bundleDir)}`);
    await page.locator("tr.action").first().waitFor();
    const focused = () =>
      page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return { id: a?.id ?? "", tag: a?.tagName ?? "", seq: a?.getAttribute("data-seq") ?? "" };
      });
    // The first Tab after the header's link is the skip link; Enter takes focus to the actions.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      "Skip to the actions",
    );
    await page.keyboard.press("Enter");
    expect((await focused()).id).toBe("actions");
    await page.keyboard.press("Tab");
    const first = await focused();
    expect(first.tag).toBe("TR");
    await page.keyboard.press("Enter");
    expect(
      await page.locator(`tr.action[data-seq="${first.seq}"]`).getAttribute("aria-expanded"),
    ).toBe("true");
    expect(await page.locator("tr.detail").count()).toBe(1);
    await page.keyboard.press("ArrowDown");
    const next = await focused();
    expect(next.tag).toBe("TR");
    expect(Number(next.seq)).toBeGreaterThan(Number(first.seq));
    // Back to the filters: only failures and unknown outcomes (there are none).
    for (let i = 0; i < 12 && (await focused()).id !== "f-problems"; i++)
      await page.keyboard.press("Shift+Tab");
    expect((await focused()).id).toBe("f-problems");
    await page.keyboard.press("Space");
    expect(await page.locator("tr.action").count()).toBe(0);
    await page.keyboard.press("Space");
    expect(await page.locator("tr.action").count()).toBeGreaterThan(50);
    await screenshot(page, "auditor-keyboard");
    await page.close();
  }, 180_000);
});
