import { parseDurationMs } from "../../base/duration.ts";
import { triggerId } from "../definition/names.ts";
import type { Scenario } from "../definition/schema.ts";
import type { Member, ScenarioEvent } from "./events.ts";
import { recordFiring, runActions } from "./firing.ts";
import { scenarioKeys } from "./keys.ts";
import { type EngineDeps, type RunContext, runContext } from "./run-context.ts";
import { readDefinition, readRun } from "./run-state.ts";

/**
 * Ghost ads: a seller posts an offer, buyers answer it in the group, and the
 * seller never answers any of them there. Such sellers are often scammers or
 * are moving buyers to private chats; operators want them flagged. Every
 * offer is watched. A buyer answers it by replying to it or by naming the
 * seller (@handle) — the only way once the offer has been removed; the first
 * buyer starts the `after:` timer of each ghost_ad trigger. The seller
 * answers by replying to a buyer or naming one. When the timer fires on an
 * unanswered offer, the trigger fires with the seller as its member.
 */

interface WatchedOffer {
  seller: Member;
  text: string;
  at: number;
  buyers: number[];
  answered: boolean;
}

/** How many offers a run watches at most; the oldest are forgotten first. */
const MAX_WATCHED = 5000;

export async function trackGhost(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  event: ScenarioEvent,
): Promise<void> {
  const message = event.message;
  if (!message) return;
  const redis = rc.deps.redis;
  const key = scenarioKeys.ghost(rc.run.caseId, rc.run.id);
  const username = event.member.username?.toLowerCase();
  const at = Math.min(event.at ?? rc.deps.now(), rc.deps.now());
  if (message.offer) {
    const offer: WatchedOffer = {
      seller: event.member,
      text: message.text.slice(0, 300),
      at,
      buyers: [],
      answered: false,
    };
    await redis
      .multi()
      .hsetnx(key, String(message.id), JSON.stringify(offer))
      .hset(
        key,
        ...(username ? [`seller:${username}`, String(message.id)] : ["last", String(message.id)]),
      )
      .exec();
    if ((await redis.hlen(key)) > MAX_WATCHED * 3) await forgetOldest(rc);
    return;
  }
  // What the message answers: an offer (a reply to it, or naming its seller), or a buyer (a reply to them, or naming them).
  let offerId: string | undefined;
  let toBuyer = false;
  const replyTo = message.replyTo?.id;
  if (replyTo !== undefined) {
    if (await redis.hexists(key, String(replyTo))) offerId = String(replyTo);
    else {
      const via = await redis.hget(key, `reply:${replyTo}`);
      if (via) [offerId, toBuyer] = [via, true];
    }
  }
  if (!offerId) {
    for (const [, name] of message.text.matchAll(/@([A-Za-z0-9_]{4,32})/g)) {
      const handle = (name as string).toLowerCase();
      const asSeller = await redis.hget(key, `seller:${handle}`);
      if (asSeller) {
        offerId = asSeller;
        break;
      }
      const asBuyer = await redis.hget(key, `buyer:${handle}`);
      if (asBuyer) {
        [offerId, toBuyer] = [asBuyer, true];
        break;
      }
    }
  }
  if (!offerId) return;
  const raw = await redis.hget(key, offerId);
  if (!raw) return;
  const offer = JSON.parse(raw) as WatchedOffer;
  if (event.member.id === offer.seller.id) {
    if (!offer.answered && (toBuyer || offer.buyers.length > 0)) {
      offer.answered = true;
      await redis.hset(key, offerId, JSON.stringify(offer));
    }
    return;
  }
  if (toBuyer || offer.buyers.includes(message.id)) return;
  offer.buyers.push(message.id);
  const writes = redis
    .multi()
    .hset(key, offerId, JSON.stringify(offer), `reply:${message.id}`, offerId);
  if (username) writes.hset(key, `buyer:${username}`, offerId);
  if (offer.buyers.length === 1) {
    const p = scenario.phases[phase];
    for (const [index, trigger] of (p?.triggers ?? []).entries()) {
      if (trigger.on !== "ghost_ad" || !trigger.after) continue;
      writes.zadd(
        scenarioKeys.timers(rc.run.caseId),
        at + parseDurationMs(trigger.after),
        `ghost:${rc.run.id}:${phase}:${index}:${offerId}`,
      );
    }
  }
  await writes.exec();
}

async function forgetOldest(rc: RunContext): Promise<void> {
  const key = scenarioKeys.ghost(rc.run.caseId, rc.run.id);
  const all = await rc.deps.redis.hgetall(key);
  const offers = Object.entries(all)
    .filter(([k]) => /^\d+$/.test(k))
    .map(([k, v]) => [k, (JSON.parse(v) as WatchedOffer).at] as const)
    .sort((a, b) => a[1] - b[1]);
  const drop = offers.slice(0, offers.length - MAX_WATCHED).map(([k]) => k);
  if (drop.length) await rc.deps.redis.hdel(key, ...drop);
}

/** A ghost-ad timer came due (`ghost:<run>:<phase>:<trigger>:<offer>`): fire if the seller never answered. */
export async function fireGhost(deps: EngineDeps, caseId: string, timer: string): Promise<void> {
  const [, runId, phaseText, triggerText, offerId] = timer.split(":");
  if (!runId || !offerId) return;
  const run = await readRun(deps.redis, caseId, runId);
  const raw = run ? await deps.redis.hget(scenarioKeys.ghost(caseId, runId), offerId) : null;
  if (run && raw && run.status === "running") {
    const offer = JSON.parse(raw) as WatchedOffer;
    const scenario = await readDefinition(deps.redis, caseId, run.hash);
    const phase = scenario.phases[Number(phaseText)];
    const index = Number(triggerText);
    const trigger = phase?.triggers?.[index];
    const rc = await runContext(deps, run);
    if (phase && trigger && !offer.answered && rc.record.status === "open") {
      const firing = {
        rc,
        scenario,
        phaseId: phase.id,
        trigger: triggerId(trigger, index),
        occasion: `ghost-${offerId}`,
        chatId: run.chatId,
        member: offer.seller,
        messageId: Number(offerId),
        text: offer.text,
        private: false,
        updateIds: [],
      };
      await recordFiring(firing, trigger, {
        offer_message_id: Number(offerId),
        buyers: offer.buyers.length,
      });
      await runActions(firing, trigger.do, "", { count: offer.buyers.length });
    }
  }
  await deps.redis.zrem(scenarioKeys.timers(caseId), timer);
}
