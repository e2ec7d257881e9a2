/**
 * The content of a message a person writes: text with the entities a
 * Telegram client would detect, a photo or a document (stored as files, with
 * stand-ins when a scenario gives none), and where a forward appears to come
 * from.
 */
import { controlInvalid, controlNotFound } from "../errors.ts";
import { documentOf, photoSize, storeFile } from "../files.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { detectEntities } from "./entities.ts";

/** A 1×1 PNG, for photos a scenario does not bother to provide. */
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

/** The Message fields of what the person wrote; refuses a message with nothing in it. */
export function memberContent(sim: Simulator, input: MemberMessageInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.photo) {
    const data = typeof input.photo === "string" ? Buffer.from(input.photo, "base64") : PIXEL;
    out.photo = [photoSize(storeFile(sim.files, "photo", data))];
  }
  if (input.document) {
    const spec = typeof input.document === "object" ? input.document : {};
    const name =
      typeof input.document === "string" ? input.document : (spec.file_name ?? "document.txt");
    const record = storeFile(sim.files, "document", Buffer.from(spec.content ?? name), {
      file_name: name,
      mime_type: spec.mime_type ?? "application/octet-stream",
    });
    out.document = documentOf(record);
  }
  const hasMedia = out.photo !== undefined || out.document !== undefined;
  const text = hasMedia ? input.caption : (input.text ?? input.caption);
  if (text !== undefined && text !== "") {
    const entities = input.entities ?? detectEntities(text);
    out[hasMedia ? "caption" : "text"] = text;
    if (entities.length > 0) out[hasMedia ? "caption_entities" : "entities"] = entities;
  }
  if (Object.keys(out).length === 0)
    throw controlInvalid("a message needs text, a photo or a document");
  return out;
}

/** The forward_origin of a message posted as a forward, or undefined for an ordinary one. */
export function memberForwardOrigin(sim: Simulator, input: MemberMessageInput, date: number) {
  if (input.forward_sender_name) {
    return { type: "hidden_user", sender_user_name: input.forward_sender_name, date: date - 60 };
  }
  if (input.forward_from_chat_id !== undefined) {
    const source = sim.world.chats.get(input.forward_from_chat_id);
    if (!source) throw controlNotFound(`chat ${input.forward_from_chat_id}`);
    return source.type === "channel"
      ? { type: "channel", chat: chatObject(sim, source), message_id: 1, date: date - 60 }
      : { type: "chat", sender_chat: chatObject(sim, source), date: date - 60 };
  }
  if (input.forward_from_id !== undefined) {
    const user = userObject(sim, input.forward_from_id);
    if (!user) throw controlNotFound(`user ${input.forward_from_id}`);
    return { type: "user", sender_user: user, date: date - 60 };
  }
  return undefined;
}
