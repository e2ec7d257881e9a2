import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportCollected } from "../../src/collect/export/export.ts";
import { verifyExport } from "../../src/collect/export/manifest.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { getCase } from "../../src/store/cases.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { eventually, type Stage, settled, startStage } from "../helpers/warden.ts";

/**
 * The acceptance case: 1,000 members join a seized group by an invite
 * link, a third of them change their name, an anonymous admin posts in
 * between; the members export holds each of them once with their whole
 * history, and its manifest verifies.
 */

const MEMBERS = 1000;

let stage: Stage;
let dir: string;
beforeEach(async () => {
  stage = await startStage();
  dir = mkdtempSync(join(tmpdir(), "warden-scale-"));
});
afterEach(async () => {
  await stage.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` over the items, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += width)
    await Promise.all(items.slice(i, i + width).map(fn));
}

describe("a members export after 1,000 simulated members", () => {
  it("holds each member once with their names, joins and statuses, and verifies", {
    timeout: 120_000,
  }, async () => {
    const { control, group } = stage;
    const link = await stage.warden.bot.api.createChatInviteLink(group, { name: "zomer-actie" });
    await control.promote(
      group,
      stage.alice.id,
      { is_anonymous: true, can_delete_messages: true },
      { custom_title: "Baas" },
    );

    const indexes = Array.from({ length: MEMBERS }, (_, i) => i);
    const users = new Array<{ id: number; first_name: string }>(MEMBERS);
    await inParallel(indexes, 50, async (i) => {
      users[i] = await control.createUser({
        first_name: i === 7 ? '=HYPERLINK("http://x")' : `Koper ${i}`,
        username: `koper_${i}`,
      });
    });
    await inParallel(indexes, 25, async (i) => {
      const user = users[i] as { id: number };
      await control.join(group, user.id, { invite_link: link.invite_link });
      await control.sendMessage(group, { from_id: user.id, text: `hallo ${i}` });
      if (i % 3 === 0) {
        await control.updateUser(user.id, {
          first_name: `Verkoper ${i}`,
          username: `verkoper_${i}`,
        });
        await control.sendMessage(group, { from_id: user.id, text: `nieuwe naam ${i}` });
      }
      if (i % 50 === 0)
        await control.sendMessage(group, {
          from_id: stage.alice.id,
          text: `melding ${i}`,
          anonymous: true,
        });
    });
    await settled(stage);
    await eventually(
      async () => (await stage.redis.zcard(collectKeys.members(stage.caseId))) >= MEMBERS,
      30_000,
    );

    const out = join(dir, "members.jsonl");
    const record = await getCase(stage.redis, stage.caseId);
    const manifest = await exportCollected(
      { redis: stage.redis, audit: stage.audit, actor: { kind: "cli", name: "test@server" } },
      {
        record: record as NonNullable<typeof record>,
        kind: "members",
        format: "jsonl",
        out,
        justification: "acceptance test of the members export",
        recipients: [],
        force: false,
      },
    );
    const rows = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            user_id: number;
            first_name: string;
            names: { first_name: string; username: string }[];
            status: { status: string }[];
          },
      );
    expect(manifest.rows).toBe(rows.length);
    const byId = new Map<number, typeof rows>();
    for (const row of rows) byId.set(row.user_id, [...(byId.get(row.user_id) ?? []), row]);
    // Stand-in accounts of anonymous admins are no members; everyone else appears exactly once.
    expect(byId.has(1087968824)).toBe(false);
    expect([...byId.values()].every((list) => list.length === 1)).toBe(true);
    for (const [i, user] of users.entries()) {
      const row = byId.get(user.id)?.[0];
      expect(row, `member ${i}`).toBeDefined();
      const expectedNames = i % 3 === 0 ? [user.first_name, `Verkoper ${i}`] : [user.first_name];
      expect(row?.names.map((n) => n.first_name)).toEqual(expectedNames);
      expect(row?.status.map((s) => s.status)).toContain("member");
    }
    expect(byId.get((users[7] as { id: number }).id)?.[0]?.first_name).toBe(
      '=HYPERLINK("http://x")',
    );

    // Every join kept the invite link's name and creator.
    const joins = (await stage.redis.xrange(collectKeys.events(stage.caseId), "-", "+"))
      .map(
        ([, f]) =>
          JSON.parse(f[1] as string) as {
            kind: string;
            invite_link?: { name: string; creator_id: number };
          },
      )
      .filter((e) => e.kind === "member-status" && e.invite_link?.name === "zomer-actie");
    expect(joins).toHaveLength(MEMBERS);
    expect(joins.every((e) => e.invite_link?.creator_id === stage.botUser.id)).toBe(true);

    expect((await verifyExport(out)).sha256).toBe(manifest.sha256);

    // The same members as CSV: the member named like a formula is text, not a formula.
    const csv = join(dir, "members.csv");
    await exportCollected(
      { redis: stage.redis, audit: stage.audit, actor: { kind: "cli", name: "test@server" } },
      {
        record: record as NonNullable<typeof record>,
        kind: "members",
        format: "csv",
        out: csv,
        justification: "acceptance test of the members export",
        recipients: ["OM Rotterdam"],
        force: false,
      },
    );
    const text = readFileSync(csv, "utf8");
    expect(text).toContain(`,"'=HYPERLINK(""http://x"")",`);
    expect((await verifyExport(csv)).rows).toBe(rows.length);
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
