import type { Api } from "grammy";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { addChat, createCase } from "../../src/actions/case-changes.ts";
import { actionEnv } from "../../src/actions/context.ts";
import { lockdown } from "../../src/actions/lockdown.ts";
import { entriesSince } from "../../src/audit/recent.ts";
import { freshLog, operator } from "../audit/helpers.ts";

/**
 * A lockdown's title and description are what the audit log says they are:
 * within Telegram's limits (128 and 255 characters) before they are recorded,
 * and a default description that would not fit in both languages is set in
 * Dutch alone, never an English sentence cut off mid-word.
 */

async function lockdownWith(authority: string, opts: { title?: string } = {}) {
  const store = await freshLog();
  const deps = { redis: store.redis, audit: store.log, actor: operator };
  const caseId = `op-text-${authority.length}-${opts.title?.length ?? 0}`;
  const record = await createCase(deps, {
    id: caseId,
    title: "Vuurwerk",
    authority,
    purpose: "stop trade",
    retentionDays: 180,
  });
  const chat = await addChat(deps, record.id, { chatId: -1001234567890, alias: "fw1" });
  const sent: Record<string, unknown[]> = {};
  const api = new Proxy({} as Api, {
    get:
      (_t, method: string) =>
      async (...args: unknown[]) => {
        sent[method] = args;
        if (method === "getChat") return { id: chat.chatId, type: "supergroup", title: "x" };
        if (method === "exportChatInviteLink") return "https://t.me/+new";
        return true;
      },
  });
  const env = actionEnv({
    api,
    redis: store.redis,
    audit: store.log,
    logger: pino({ level: "silent" }),
    now: Date.now,
  });
  await lockdown(
    env,
    { case: record, chat, actor: operator, idempotencyKey: "l1" },
    {
      noPhoto: true,
      ...opts,
    },
  );
  const recorded = async (step: string) =>
    (await entriesSince(store.redis, caseId, 0)).find(
      (e) => e.phase === "intent" && e.params?.step === step,
    )?.params;
  return { sent, recorded };
}

describe("a lockdown's texts", () => {
  it("sets both languages when they fit, exactly as recorded", async () => {
    const { sent, recorded } = await lockdownWith("OM-2026-0142");
    const description = sent.setChatDescription?.[1] as string;
    expect(description).toMatch(/^Deze groep .*strafbaar\.\n\nThis group .*offence\.$/s);
    expect((await recorded("set-description"))?.description).toBe(description);
  });

  it("sets Dutch alone when both do not fit in 255 characters, and records what was sent", async () => {
    const authority = "Openbaar Ministerie, Parket Zeeland-West-Brabant, zaak 2026/00412-VWK";
    const { sent, recorded } = await lockdownWith(authority);
    const description = sent.setChatDescription?.[1] as string;
    expect(description.length).toBeLessThanOrEqual(255);
    expect(description).toMatch(/^Deze groep .*strafbaar\.$/s);
    expect(description).toContain(authority);
    expect((await recorded("set-description"))?.description).toBe(description);
  });

  it("records a title cut to Telegram's 128 characters as it was sent", async () => {
    const title = `Politie: ${"x".repeat(200)}`;
    const { sent, recorded } = await lockdownWith("OM-1", { title });
    expect(sent.setChatTitle?.[1]).toBe(title.slice(0, 128));
    expect((await recorded("set-title"))?.title).toBe(title.slice(0, 128));
  });
});
