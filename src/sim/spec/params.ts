/**
 * Turns the raw parameters of a Bot API call into typed values, following the
 * derived spec. Parameters arrive as strings (query string, form fields,
 * multipart fields) or as JSON values; Telegram accepts both, decoding nested
 * objects from JSON strings. Missing required parameters are refused with the
 * descriptions Telegram uses for the common ones.
 */
import { badRequest } from "../errors.ts";
import type { SpecField, SpecMethod } from "./spec.ts";

/** A file part of a multipart request. */
export interface Upload {
  filename?: string;
  mimetype?: string;
  data: Buffer;
}

/** An InputFile parameter: a fresh upload, or a file_id / URL string. */
export type FileInput = { upload: Upload } | { ref: string };

export type Params = Record<string, unknown>;

/** Telegram's wording for the most common missing parameters. */
const MISSING: Record<string, string> = {
  chat_id: "chat_id is empty",
  from_chat_id: "chat_id is empty",
  text: "message text is empty",
  user_id: "invalid user_id specified",
  message_id: "message identifier is not specified",
  message_ids: "message identifiers are not specified",
  photo: "there is no photo in the request",
  document: "there is no document in the request",
  callback_query_id: "query_id is empty",
  invite_link: "invite_link is empty",
  action: "action is empty",
  sender_chat_id: "sender_chat_id is empty",
  // tdlib reads a missing topic as topic 0, which no topic has.
  message_thread_id: "invalid forum topic identifier specified",
  // createForumTopic and editGeneralForumTopic: tdlib's "Name must be non-empty".
  name: "name must be non-empty",
  permissions: 'parameter "permissions" is required',
  commands: 'parameter "commands" is required',
};

function missing(name: string) {
  return badRequest(MISSING[name] ?? `parameter "${name}" is required`);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

const INTEGER_STRING = /^-?\d+$/;

function toInteger(name: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && INTEGER_STRING.test(value.trim())) return Number(value.trim());
  if (typeof value === "boolean") return value ? 1 : 0;
  if (name === "user_id") throw badRequest("invalid user_id specified");
  throw badRequest(`field "${name}" must be of type Integer`);
}

function toBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return ["true", "1", "yes", "on"].includes(value.toLowerCase());
  return Boolean(value);
}

function decodeJson(name: string, value: unknown, isArray: boolean): unknown {
  let decoded = value;
  if (typeof value === "string") {
    try {
      decoded = JSON.parse(value);
    } catch {
      throw badRequest(`can't parse ${name} JSON object`);
    }
  }
  if (isArray && !Array.isArray(decoded)) {
    // sendMediaGroup's own wording for a media list that is not one.
    if (name === "media") throw badRequest("expected an Array of InputMedia");
    throw badRequest(`field "${name}" must be an Array`);
  }
  if (!isArray && (typeof decoded !== "object" || decoded === null || Array.isArray(decoded))) {
    throw badRequest(`can't parse ${name} JSON object`);
  }
  return decoded;
}

function coerce(field: SpecField, value: unknown, uploads: Map<string, Upload>): unknown {
  const types = field.types;
  if (types.includes("InputFile")) {
    if (typeof value === "string" && value.startsWith("attach://")) {
      const upload = uploads.get(value.slice("attach://".length));
      if (!upload) throw badRequest(`there is no ${field.name} in the request`);
      return { upload } satisfies FileInput;
    }
    if (typeof value === "string") return { ref: value } satisfies FileInput;
    throw badRequest(`there is no ${field.name} in the request`);
  }
  if (types.includes("Integer") && types.includes("String")) {
    if (typeof value === "number") return value;
    const text = String(value).trim();
    return INTEGER_STRING.test(text) ? Number(text) : text;
  }
  const [type] = types;
  switch (type) {
    case "Integer":
      return toInteger(field.name, value);
    case "Float":
      if (typeof value === "number") return value;
      if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
        return Number(value);
      }
      throw badRequest(`field "${field.name}" must be of type Float`);
    case "Boolean":
      return toBoolean(value);
    case "String":
      return typeof value === "string"
        ? value
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
    default:
      return decodeJson(field.name, value, (type ?? "").startsWith("Array of"));
  }
}

/**
 * Reads the parameters a method declares from `raw` (unknown ones are
 * ignored, as Telegram does) and returns them typed.
 */
export function readParams(method: SpecMethod, raw: Params, uploads: Map<string, Upload>): Params {
  const out: Params = {};
  for (const field of method.fields) {
    let value = raw[field.name];
    if (isEmpty(value) && field.types.includes("InputFile") && uploads.has(field.name)) {
      value = `attach://${field.name}`;
    }
    if (isEmpty(value)) {
      if (field.required) throw missing(field.name);
      continue;
    }
    out[field.name] = coerce(field, value, uploads);
  }
  return out;
}
