import { Composer, type Context } from "grammy";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { type Feature, installFeatures } from "../../src/bot/feature.ts";

/**
 * The bot's features run in order, each only for the updates it wants
 * (src/bot/feature.ts): an update a feature does not want skips it, and one
 * no feature wants goes straight on, as if each feature had passed it.
 */

function feature(
  name: string,
  wants: (ctx: Context) => boolean,
  seen: string[],
  stop = false,
): Feature {
  const composer = new Composer<Context>();
  composer.use(async (ctx, next) => {
    seen.push(`${name}:${ctx.update.update_id}`);
    if (!stop) await next();
  });
  return { wants, composer };
}

const ctxOf = (update: Partial<Update> & { update_id: number }) =>
  ({ update }) as unknown as Context;

describe("installFeatures", () => {
  it("enters, in order, only the features that want the update, then goes on", async () => {
    const seen: string[] = [];
    const run = installFeatures([
      feature("calls", (c) => c.update.callback_query !== undefined, seen),
      feature("all", () => true, seen),
      feature("odd", (c) => c.update.update_id % 2 === 1, seen),
    ]);
    const after: number[] = [];
    for (const id of [1, 2]) {
      await run(ctxOf({ update_id: id }), async () => {
        after.push(id);
      });
    }
    expect(seen).toEqual(["all:1", "odd:1", "all:2"]);
    expect(after).toEqual([1, 2]);
  });

  it("goes straight on when nothing wants the update, and stops where a feature does not call next", async () => {
    const seen: string[] = [];
    const run = installFeatures([
      feature("never", () => false, seen),
      feature("stops", (c) => c.update.update_id === 7, seen, true),
      feature("later", () => true, seen),
    ]);
    const after: number[] = [];
    const onward = (id: number) => async () => {
      after.push(id);
    };
    await run(ctxOf({ update_id: 6 }), onward(6));
    await run(ctxOf({ update_id: 7 }), onward(7));
    expect(seen).toEqual(["later:6", "stops:7"]);
    expect(after).toEqual([6]);
  });
});
