import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage({ approvalTtlSeconds: 600 });
});
afterEach(async () => {
  await stage.stop();
});

async function approvalRequest(
  stage: Stage,
): Promise<{ message_id: number; data: (answer: "y" | "n") => string }> {
  const messages = await stage.control.chat(stage.room);
  const request = messages.messages
    .map(
      (m) =>
        m.message as {
          message_id: number;
          text?: string;
          reply_markup?: { inline_keyboard: { callback_data: string }[][] };
        },
    )
    .filter((m) => m.reply_markup)
    .at(-1);
  if (!request?.reply_markup) throw new Error("no approval request");
  const approve = request.reply_markup.inline_keyboard[0]?.[0]?.callback_data as string;
  return { message_id: request.message_id, data: (answer) => approve.replace(/:y$/, `:${answer}`) };
}

async function press(stage: Stage, from: number, message_id: number, data: string) {
  const { callback_query_id } = await stage.control.pressButton({
    from_id: from,
    chat_id: stage.room,
    message_id,
    data,
  });
  return eventually(async () => {
    const answer = await stage.control.callbackAnswer(callback_query_id);
    return answer.answered ? answer.answer : undefined;
  });
}

describe("approvals", () => {
  it("runs /lockdown only after a second person, a supervisor, approves; once", async () => {
    const applicant = await stage.control.createUser({ first_name: "Piet", language_code: "nl" });
    await stage.control.requestToJoin(stage.group, applicant.id, { bio: "vuurwerk inkoop" });
    const primaryBefore = (await stage.control.chat(stage.group)).invite_links.find(
      (l) => l.is_primary,
    )?.invite_link;
    const answer = await command(stage, stage.room, stage.operator, "/lockdown fw1");
    expect(answer).toContain("Approval needed");
    expect((await stage.control.chat(stage.group)).title).toBe("Vuurwerk Deals NL");
    const request = await approvalRequest(stage);

    // An operator cannot approve at all (and is told why); someone with no role learns nothing.
    expect(
      (await press(stage, stage.operator.id, request.message_id, request.data("y")))?.text,
    ).toBe("role operator may not approve");
    expect(
      (await press(stage, stage.stranger.id, request.message_id, request.data("y")))?.text ?? "",
    ).toBe("");

    expect(
      (await press(stage, stage.supervisor.id, request.message_id, request.data("y")))?.text,
    ).toBe("Approved");
    await eventually(async () =>
      (await botMessages(stage, stage.room)).some((m) => m.text?.includes("is locked down")),
    );
    const group = await stage.control.chat(stage.group);
    expect(group.title).toBe("Deze groep is overgenomen door de politie");
    expect(group.description).toContain("OM-2026-0142");
    expect(group.photo).not.toBeNull();
    expect(group.join_requests).toHaveLength(0);
    const primaryAfter = group.invite_links.find((l) => l.is_primary && !l.is_revoked)?.invite_link;
    expect(primaryAfter).toBeDefined();
    expect(primaryAfter).not.toBe(primaryBefore);

    // Single use: a second click changes nothing.
    expect(
      (await press(stage, stage.supervisor.id, request.message_id, request.data("y")))?.text,
    ).toMatch(/already answered/);
    const entries = await auditEntries(stage.redis, stage.caseId);
    expect(entries.filter((e) => e.op === "approval.grant")).toHaveLength(1);
    expect(
      entries.filter(
        (e) =>
          e.op === "lockdown" &&
          e.phase === "intent" &&
          (e.params as { step: string }).step === "set-title",
      ),
    ).toHaveLength(1);
    const titleIntent = entries.find((e) => e.op === "lockdown" && e.phase === "intent");
    expect(titleIntent?.actor).toMatchObject({ id: stage.operator.id, kind: "operator" });
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("expires: a late approval runs nothing", async () => {
    await command(stage, stage.room, stage.operator, "/release fw1");
    const request = await approvalRequest(stage);
    stage.clock.now += 601_000;
    expect(
      (await press(stage, stage.supervisor.id, request.message_id, request.data("y")))?.text,
    ).toMatch(/expired/);
    const entries = await auditEntries(stage.redis, stage.caseId);
    expect(entries.some((e) => e.op === "warn")).toBe(false);
    expect(entries.some((e) => e.op === "approval.answer" && e.phase === "refused")).toBe(true);
  });

  it("asks for approval when a ban names more people than the threshold", async () => {
    await stage.stop();
    stage = await startStage({ approvalThreshold: 1 });
    const answer = await command(
      stage,
      stage.room,
      stage.operator,
      `/ban fw1 ${stage.alice.id} ${stage.bob.id}`,
    );
    expect(answer).toContain("Approval needed");
    const request = await approvalRequest(stage);
    await press(stage, stage.supervisor.id, request.message_id, request.data("y"));
    await eventually(async () => {
      const members = (await stage.control.chat(stage.group)).members;
      return members.filter((m) => m.status === "kicked").length === 2;
    });
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
