import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import { exportBundle } from "../../src/audit/bundle.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { freshLog, operator } from "./helpers.ts";

const CASE = "op-report";
const HOSTILE_NAME = '<img src="https://evil.example/x.png" onerror="window.__pwned=1">Boss';
const RTL = "invoice\u202Egnp.exe";

let browser: TestBrowser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/** A bundle whose entries carry strings written by the people under investigation. */
async function bundle(opts: { tamper?: boolean } = {}): Promise<string> {
  let clock = Date.parse("2025-03-01T10:00:00.000Z");
  const { redis, log } = await freshLog({ now: () => clock });
  await createCase(
    { redis, audit: log, actor: operator },
    {
      id: CASE,
      title: "Fireworks <b>market</b>",
      authority: "StA 12 Js 345/25",
      purpose: "stop sales",
      retentionDays: 180,
    },
  );
  const seller = { kind: "system" as const };
  for (let i = 0; i < 6; i++) {
    clock += 3_600_000;
    await log.record({
      case: CASE,
      actor: seller,
      op: "collect",
      phase: "info",
      target: { chat_id: -1001, alias: "fw1", user_ids: [700 + i] },
      params: { name: i === 0 ? HOSTILE_NAME : `member ${i}`, file: RTL },
    });
  }
  clock += 3_600_000;
  await log.record({
    case: CASE,
    actor: operator,
    op: "warn",
    phase: "info",
    target: { chat_id: -1002, alias: "fw2" },
  });
  if (opts.tamper) {
    const raw = (await redis.hget(auditKeys.payloads(CASE), "3")) ?? "";
    await redis.hset(auditKeys.payloads(CASE), "3", raw.replace("member 1", "member X"));
  }
  const dir = join(mkdtempSync(join(tmpdir(), "warden-report-")), "bundle");
  clock += 60_000;
  await exportBundle(log, {
    caseId: CASE,
    out: dir,
    justification: "audit",
    recipients: ["auditor"],
    actor: operator,
  });
  return join(dir, "report.html");
}

describe("report.html in a real browser", () => {
  it("shows the case, the verdict and the entries, filters them, expands details, escapes everything, and stays offline", async () => {
    const file = await bundle();
    const url = pathToFileURL(file).href;
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url);
    // The verdict is painted first; the rows follow in the next task.
    await page.locator("tr.action").first().waitFor();

    // The verdict comes first, in words.
    const verdict = page.locator("#verdict");
    expect(await verdict.getAttribute("data-status")).toBe("intact");
    expect(await page.locator("main > section").first().getAttribute("id")).toBe("verdict");
    expect(await verdict.locator(".headline").textContent()).toBe(
      "VERIFIED: all 9 entries are intact, signed up to entry 9.",
    );
    expect(await verdict.locator(".verified").textContent()).toContain(
      "checkpoints covering entries 1 to 9 are signed by",
    );
    expect(await verdict.locator(".not-verified").textContent()).toContain(
      "Witness cosignatures: not checked",
    );
    expect(await page.locator("#case-meta").textContent()).toContain("StA 12 Js 345/25");
    expect(await page.locator("#case-meta").textContent()).toContain("Fireworks <b>market</b>");
    expect(await page.locator("#case-meta").textContent()).toContain("180 days");
    const rows = page.locator("tr.action");
    expect(await rows.count()).toBe(9);
    expect(await page.locator("#shown").textContent()).toBe("9 of 9 rows shown (9 entries)");

    await page.selectOption("#f-op", "collect");
    expect(await page.locator("tr.action").count()).toBe(6);
    await page.selectOption("#f-chat", { label: "fw1 (-1001)" });
    expect(await page.locator("tr.action").count()).toBe(6);
    await page.selectOption("#f-op", "");
    await page.selectOption("#f-chat", "");
    await page.selectOption("#f-who", { label: "server administrator tester@server" });
    expect(await page.locator("tr.action").count()).toBe(3);
    await page.selectOption("#f-who", "");
    await page.fill("#f-from", "2025-03-01T12:00");
    await page.fill("#f-to", "2025-03-01T14:00");
    expect(
      await page
        .locator("tr.action")
        .evaluateAll((trs) => trs.map((t) => t.getAttribute("data-seq"))),
    ).toEqual(["3", "4", "5"]);
    await page.fill("#f-from", "");
    await page.fill("#f-to", "");

    // A member's name written by them is text, never markup; the member's own page lists their rows.
    const row2 = page.locator('tr.action[data-seq="2"]');
    expect(await row2.locator("td.what").textContent()).toContain(`${HOSTILE_NAME} (700)`);
    await row2.locator("button.member").click();
    expect(await page.locator("#member-page h2").textContent()).toBe(
      `Member ${HOSTILE_NAME} (700)`,
    );
    expect(await page.locator("tr.action").count()).toBe(1);
    await page.selectOption("#f-member", "");
    await row2.click();
    const detail = await page.locator("tr.detail").textContent();
    expect(detail).toContain(HOSTILE_NAME);
    expect(detail).toContain("invoice[U+202E]gnp.exe");
    expect(detail).not.toContain("\u202E");
    await row2.click();
    expect(await page.locator("tr.detail").count()).toBe(0);

    expect(await page.locator("img").count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("shows FAILED and the seq when the exported log does not verify", async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(await bundle({ tamper: true })).href);
    const verdict = page.locator("#verdict");
    expect(await verdict.getAttribute("data-status")).toBe("failed");
    expect(await verdict.locator(".headline").textContent()).toMatch(
      /^NOT VERIFIED: the log fails at entry 3: .*seq 3 does not match the hash the stream holds/,
    );
    // Red, and first on the page.
    expect(await verdict.locator(".headline").evaluate((h) => getComputedStyle(h).color)).toBe(
      "rgb(176, 0, 0)",
    );
    expect(await page.locator("main > section").first().getAttribute("id")).toBe("verdict");
    await page.close();
  });
});
