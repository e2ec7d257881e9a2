import { Composer, type Context } from "grammy";
import { answerApproval, type RunApprovedCommand } from "../../actions/approvals.ts";
import { actionEnv } from "../../actions/context.ts";
import { approvalButton, pressOf } from "../approval-button.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * The Approve and Reject buttons of approval requests (`ap:<case>:<id>:y|n`).
 * The rule itself (who may answer, once, in time) is `src/actions/approvals.ts`;
 * this only turns a button press into an answer and shows the result.
 */
export function approvalsFeature(deps: FeatureDeps, runCommand: RunApprovedCommand): Feature {
  const composer = new Composer<Context>();
  composer.callbackQuery(approvalButton("ap"), async (ctx) => {
    const result = await answerApproval(actionEnv(deps), pressOf(ctx), runCommand);
    await ctx.answerCallbackQuery(
      result.toast ? { text: result.toast, show_alert: result.alert } : {},
    );
    if (result.edit) await ctx.editMessageText(result.edit).catch(() => undefined);
    if (result.run) {
      const summary = await result.run();
      const room = ctx.chat?.id;
      if (room !== undefined) await deps.api.sendMessage(room, summary, { parse_mode: "HTML" });
    }
  });
  return { wants: (ctx) => ctx.update.callback_query !== undefined, composer };
}
