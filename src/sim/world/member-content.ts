/**
 * The content of a message a person writes: text with the entities a
 * Telegram client would detect, a photo, a video or a document (stored as
 * files, with stand-ins when a scenario gives none), how its link preview is
 * shown, and where a forward appears to come from.
 */
import { controlInvalid, controlNotFound } from "../errors.ts";
import { documentOf, photoSize, storeFile, videoOf } from "../files.ts";
import type { MemberFileInput, MemberMessageInput } from "../member-message-input.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { detectEntities, linkPreviewOptions, type MessageEntity } from "./entities.ts";

/** A 1×1 PNG, for photos a scenario does not bother to provide. */
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

function storeMemberFile(
  sim: Simulator,
  kind: "document" | "video",
  input: MemberFileInput,
  defaults: { file_name: string; mime_type: string },
) {
  const spec = typeof input === "object" ? input : {};
  const name = typeof input === "string" ? input : (spec.file_name ?? defaults.file_name);
  return storeFile(sim.files, kind, Buffer.from(spec.content ?? name), {
    file_name: name,
    mime_type: spec.mime_type ?? defaults.mime_type,
  });
}

/** The Message fields of what the person wrote; refuses a message with nothing in it. */
export function memberContent(sim: Simulator, input: MemberMessageInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.photo) {
    const data = typeof input.photo === "string" ? Buffer.from(input.photo, "base64") : PIXEL;
    out.photo = [photoSize(storeFile(sim.files, "photo", data))];
  }
  if (input.video) {
    out.video = videoOf(
      storeMemberFile(sim, "video", input.video, {
        file_name: "video.mp4",
        mime_type: "video/mp4",
      }),
    );
  }
  if (input.document) {
    out.document = documentOf(
      storeMemberFile(sim, "document", input.document, {
        file_name: "document.txt",
        mime_type: "application/octet-stream",
      }),
    );
  }
  const hasMedia = out.photo !== undefined || out.document !== undefined || out.video !== undefined;
  const text = hasMedia ? input.caption : (input.text ?? input.caption);
  if (text !== undefined && text !== "") {
    const entities = (input.entities ?? detectEntities(text)) as MessageEntity[];
    out[hasMedia ? "caption" : "text"] = text;
    if (entities.length > 0) out[hasMedia ? "caption_entities" : "entities"] = entities;
    const preview = hasMedia ? undefined : linkPreviewOptions(entities, input.link_preview_options);
    if (preview) out.link_preview_options = preview;
  }
  if (Object.keys(out).length === 0)
    throw controlInvalid("a message needs text, a photo, a video or a document");
  return out;
}

/** The forward_origin of a message posted as a forward, or undefined for an ordinary one. */
export function memberForwardOrigin(sim: Simulator, input: MemberMessageInput, date: number) {
  if (input.forward_sender_name) {
    return { type: "hidden_user", sender_user_name: input.forward_sender_name, date: date - 60 };
  }
  const signature = input.forward_signature ? { author_signature: input.forward_signature } : {};
  if (input.forward_from_chat_id !== undefined) {
    const source = sim.world.chats.get(input.forward_from_chat_id);
    if (!source) throw controlNotFound(`chat ${input.forward_from_chat_id}`);
    return source.type === "channel"
      ? {
          type: "channel",
          chat: chatObject(sim, source),
          message_id: input.forward_from_message_id ?? 1,
          date: date - 60,
          ...signature,
        }
      : { type: "chat", sender_chat: chatObject(sim, source), date: date - 60, ...signature };
  }
  if (input.forward_from_id !== undefined) {
    const user = userObject(sim, input.forward_from_id);
    if (!user) throw controlNotFound(`user ${input.forward_from_id}`);
    return { type: "user", sender_user: user, date: date - 60 };
  }
  return undefined;
}

/** The inline bot a message was sent through; it must be a bot account. */
export function memberViaBot(sim: Simulator, input: MemberMessageInput) {
  if (input.via_bot_id === undefined) return undefined;
  const bot = userObject(sim, input.via_bot_id);
  if (!bot) throw controlNotFound(`user ${input.via_bot_id}`);
  if (!bot.is_bot) throw controlInvalid(`user ${input.via_bot_id} is not a bot`);
  return bot;
}
