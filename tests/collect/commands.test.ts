import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getMemberRecord } from "../../src/collect/queries.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

const WHY = "identify the seller of the cobra offers";

async function consults() {
  return (await auditEntries(stage.redis, stage.caseId)).filter((e) => e.op === "consult");
}

describe("/collect and /who", () => {
  it("shows what is collected, with counts, to every role", async () => {
    await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "5 cobra 6 voor 50 euro",
    });
    await stage.control.sendMessage(stage.group, { from_id: stage.alice.id, text: "hoi" });
    await eventually(
      async () => (await getMemberRecord(stage.redis, stage.caseId, stage.alice.id)) !== undefined,
    );
    const answer = await command(stage, stage.room, stage.auditor, "/collect");
    expect(answer).toContain("collection, case op-fw");
    expect(answer).toContain("not keeping: files");
    expect(answer).toMatch(/fw1: \d+ messages, 1 flagged as offers/);
    expect(await consults()).toEqual([]);
    expect(await command(stage, stage.room, stage.operator, "/collect fw9")).toContain(
      'unknown chat "fw9"',
    );
  });

  it("needs a justification, logs the consultation first, gives operators a summary and auditors the messages, escaped", async () => {
    await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "te koop <b>vet</b> \u202Eesrever",
    });
    await stage.control.updateUser(stage.bob.id, { first_name: "<i>Bobby</i>" });
    await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "5 cobra 6 voor 50 euro",
    });
    await eventually(
      async () =>
        (await getMemberRecord(stage.redis, stage.caseId, stage.bob.id))?.names.length === 2,
    );

    const refused = await command(stage, stage.room, stage.operator, "/who @bob_cobra");
    expect(refused).toContain("add why you need it");
    expect(await consults()).toEqual([]);

    const summary = await command(stage, stage.room, stage.operator, `/who @bob_cobra ${WHY}`);
    expect(summary).toContain("<i>Bobby</i> @bob_cobra");
    expect(summary).toContain("names (2)");
    expect(summary).toContain("offers 1");
    expect(summary).toContain("operators see a summary");
    expect(summary).not.toContain("te koop");
    const [first] = await consults();
    expect(first).toMatchObject({
      actor: { id: stage.operator.id, role: "operator" },
      justification: WHY,
      target: { user_ids: [stage.bob.id] },
      params: { command: "who", detail: "summary", found: true },
    });
    expect(summary).toContain(`consultation logged as #${first?.seq}`);

    const detail = await command(stage, stage.room, stage.auditor, `/who ${stage.bob.id} ${WHY}`);
    // Shown as text, never applied: HTML stays literal and the direction override is named.
    expect(detail).toContain("te koop <b>vet</b> [U+202E]esrever");
    expect(detail).toContain("[offer]");
    expect((await consults()).at(-1)?.params).toMatchObject({ detail: "messages" });

    const unknown = await command(stage, stage.room, stage.supervisor, `/who 424242 ${WHY}`);
    expect(unknown).toContain("has not been seen");
    expect((await consults()).at(-1)?.params).toMatchObject({ found: false });
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
