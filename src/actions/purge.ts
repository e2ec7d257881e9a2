import { collectKeys } from "../collect/keys.ts";
import { getMessages, messageIdsFrom, recentMessageIds } from "../collect/queries.ts";
import type { RedisWrite } from "../store/cases.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { type ActionReport, runStep, type StepReport } from "./run.ts";

/**
 * Removes messages from a seized chat, evidence first: every message is
 * captured (from what the recorder kept) before any is deleted, and only
 * captured messages are deleted. Deletion goes in batches of 100, the most
 * deleteMessages takes. Telegram lets bots delete only messages under 48 hours
 * old; older ones are reported, not sent.
 */

export type PurgeSelection = { messageIds: number[] } | { senderId: number } | { last: number };

const BATCH = 100;
const DELETE_WINDOW_SECONDS = 48 * 3600;

export interface PurgeReport extends ActionReport {
  captured: number[];
  deleted: number[];
  tooOld: number[];
  notSeen: number[];
  failed: number[];
}

async function select(
  env: ActionEnv,
  scope: ActionScope,
  selection: PurgeSelection,
): Promise<number[]> {
  const { id: caseId } = scope.case;
  const { chatId } = scope.chat;
  if ("messageIds" in selection) return [...new Set(selection.messageIds)].sort((a, b) => a - b);
  if ("senderId" in selection) return messageIdsFrom(env.redis, caseId, chatId, selection.senderId);
  return recentMessageIds(env.redis, caseId, chatId, selection.last);
}

export async function purge(
  env: ActionEnv,
  scope: ActionScope,
  selection: PurgeSelection,
): Promise<PurgeReport> {
  const { id: caseId } = scope.case;
  const { chatId, alias } = scope.chat;
  const now = env.now?.() ?? Math.floor(Date.now() / 1000);
  const ids = await select(env, scope, selection);
  const stored = await getMessages(env.redis, caseId, chatId, ids);
  const notSeen = ids.filter((id) => !stored.has(id));
  const captured = ids.filter((id) => stored.has(id));
  const tooOld = captured.filter(
    (id) => now - (stored.get(id)?.message.date ?? now) >= DELETE_WINDOW_SECONDS,
  );
  const deletable = captured.filter((id) => !tooOld.includes(id));

  // Capture: one audit entry, applied atomically with the evidence copies, before any deletion.
  if (captured.length > 0) {
    const evidenceKey = collectKeys.evidence(caseId);
    const writes: RedisWrite[] = captured.map((id) => [
      "HSETNX",
      evidenceKey,
      `${chatId}:${id}`,
      JSON.stringify({
        captured_at: Date.now(),
        reason: "purge",
        request: scope.idempotencyKey,
        ...stored.get(id),
      }),
    ]);
    await env.audit.record(
      {
        case: caseId,
        actor: scope.actor,
        op: "collect",
        phase: "info",
        target: { chat_id: chatId, alias },
        params: {
          purpose: "evidence before purge",
          message_ids: captured,
          request: scope.idempotencyKey,
        },
        ...(scope.updateIds?.length ? { update_ids: scope.updateIds } : {}),
        ...(scope.scenario ? { scenario: scope.scenario } : {}),
      },
      { writes },
    );
  }

  const steps: StepReport[] = [];
  const deleted: number[] = [];
  const failed: number[] = [];
  const batches = Math.ceil(deletable.length / BATCH);
  for (let b = 0; b < batches; b++) {
    const batch = deletable.slice(b * BATCH, (b + 1) * BATCH);
    const step = await runStep(env, scope, {
      op: "purge",
      step: `delete ${b + 1}/${batches}`,
      params: { message_ids: batch },
      perform: () => env.api.deleteMessages(chatId, batch),
    });
    steps.push(step);
    (step.status === "done" ? deleted : failed).push(...batch);
  }

  const parts = [
    `purge ${alias}: ${deleted.length} of ${ids.length} messages deleted, ${captured.length} kept as evidence`,
  ];
  if (tooOld.length)
    parts.push(
      `${tooOld.length} older than 48 hours (bots cannot delete them; ask the owner account): ${tooOld.join(", ")}`,
    );
  if (notSeen.length)
    parts.push(
      `${notSeen.length} never seen by Warden, so not captured and not deleted: ${notSeen.join(", ")}`,
    );
  for (const s of steps.filter((x) => x.status !== "done"))
    parts.push(`not done: ${s.step}: ${s.reason ?? s.status}`);
  return {
    op: "purge",
    alias,
    ok: failed.length === 0 && tooOld.length === 0 && notSeen.length === 0,
    steps,
    summary: parts.join("\n"),
    captured,
    deleted,
    tooOld,
    notSeen,
    failed,
  };
}
