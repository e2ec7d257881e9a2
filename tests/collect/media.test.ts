import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/collect/keys.ts";
import type { StoredFile } from "../../src/collect/media.ts";
import { DEFAULT_KEEP } from "../../src/collect/minimise.ts";
import { getCase, writeCase } from "../../src/store/cases.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
let dataDir: string;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "warden-media-"));
  stage = await startStage({ dataDir });
  const record = await getCase(stage.redis, stage.caseId);
  if (!record) throw new Error("no case");
  await stage.audit.record(
    { case: stage.caseId, actor: { kind: "cli", name: "test" }, op: "config", phase: "info" },
    { writes: writeCase({ ...record, collection: { keep: [...DEFAULT_KEEP, "files"] } }) },
  );
  stage.warden.recorder.cases.invalidate();
});
afterEach(async () => {
  await stage.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function file(uniqueId: string): Promise<StoredFile | undefined> {
  const raw = await stage.redis.hget(collectKeys.files(stage.caseId), uniqueId);
  return raw ? (JSON.parse(raw) as StoredFile) : undefined;
}

describe("media download", () => {
  it("downloads media of kept messages into the case's evidence folder with their SHA-256, on the record", async () => {
    const content = "bestellijst: 10x cobra 6, 5x romeinse kaars";
    const doc = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      document: { file_name: "lijst.txt", mime_type: "text/plain", content },
      caption: "prijslijst",
    });
    const photo = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      photo: true,
    });
    const docId = (doc as unknown as { document: { file_unique_id: string } }).document
      .file_unique_id;
    const photos = (photo as unknown as { photo: { file_unique_id: string }[] }).photo;
    const photoId = photos.at(-1)?.file_unique_id as string;

    const saved = await eventually(async () => {
      const f = await file(docId);
      return f?.status === "downloaded" ? f : undefined;
    });
    expect(saved.path?.startsWith(join(dataDir, "evidence", stage.caseId))).toBe(true);
    expect(readFileSync(saved.path as string, "utf8")).toBe(content);
    expect(saved.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    expect(saved).toMatchObject({
      size: content.length,
      chat_id: stage.group,
      message_id: doc.message_id,
    });
    const image = await eventually(async () => {
      const f = await file(photoId);
      return f?.status === "downloaded" ? f : undefined;
    });
    expect(
      createHash("sha256")
        .update(readFileSync(image.path as string))
        .digest("hex"),
    ).toBe(image.sha256);
    expect(await stage.redis.hlen(collectKeys.filesPending(stage.caseId))).toBe(0);
    const logged = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.op === "collect" && e.params?.what === "media file",
    );
    expect(logged.map((e) => e.params?.sha256).sort()).toEqual([saved.sha256, image.sha256].sort());
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("records files over the Bot API's 20 MB as not downloadable instead of asking for them", async () => {
    const huge: Update = {
      update_id: 910_000_001,
      message: {
        message_id: 880_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" },
        from: { id: stage.bob.id, is_bot: false, first_name: "Bob" },
        document: {
          file_id: "BQACAgQAAxkBAAIBb2big",
          file_unique_id: "AgADbig",
          file_name: "film.mp4",
          mime_type: "video/mp4",
          file_size: 25 * 1024 * 1024,
        },
      } as never,
    };
    await stage.warden.bot.handleUpdate(huge);
    const stored = await eventually(() => file("AgADbig"));
    expect(stored).toMatchObject({ status: "too-big", size: 25 * 1024 * 1024 });
    expect((await stage.control.calls(0, { method: "getFile" })).length).toBe(0);
  });
});
