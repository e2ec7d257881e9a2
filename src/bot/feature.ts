import type { Composer, Context, MiddlewareFn } from "grammy";

/**
 * One feature of the bot (a Composer of its own), with the question asked of
 * every update before the feature is entered: can it do anything with this one?
 *
 * Why ask first: almost every update a seized group sends is a member's
 * message that the recorder keeps and no other feature acts on. Installed one
 * after the other with `bot.use`, each feature still costs such an update a
 * few nested async frames (grammY's `concat`, the feature's `on` filters and
 * their `next` calls): the profile of the whole-bot benchmark put that at a
 * fifth of its CPU per update, more than the recorder's own Lua step. Asked
 * synchronously first, a feature that wants nothing of the update costs one
 * function call, and an update nobody wants goes straight on.
 *
 * `wants` must be true of every update the feature acts on (false only when
 * the feature would have done nothing but call `next`), and must be cheap and
 * synchronous: it runs for every update. A feature that cannot tell cheaply
 * says true and decides inside, as before.
 */
export interface Feature {
  wants(ctx: Context): boolean;
  composer: Composer<Context>;
}

/** The features, in order, as one middleware: each update enters only those that want it. */
export function installFeatures(features: readonly Feature[]): MiddlewareFn<Context> {
  const steps = features.map((f) => ({ wants: f.wants, run: f.composer.middleware() }));
  return (ctx, next) => {
    const from = (i: number): Promise<void> => {
      for (let at = i; at < steps.length; at++) {
        const step = steps[at] as (typeof steps)[number];
        // A composer's middleware returns its own promise, which Promise.resolve hands back as it is.
        if (step.wants(ctx))
          return Promise.resolve(step.run(ctx, () => from(at + 1))) as Promise<void>;
      }
      return next();
    };
    return from(0);
  };
}
