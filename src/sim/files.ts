/**
 * Uploaded files. Telegram gives every stored file an opaque `file_id` (which
 * bots reuse to resend it), a stable `file_unique_id`, and a `file_path` that
 * `getFile` reveals for download at `/file/bot<token>/<file_path>`.
 */
import { createHash } from "node:crypto";
import { randomString } from "./ids.ts";
import type { Upload } from "./spec/params.ts";

export type FileKind =
  | "photo"
  | "document"
  | "video"
  | "audio"
  | "sticker"
  | "profile_photo"
  | "chat_photo";

export interface FileRecord {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  kind: FileKind;
  data: Buffer;
  file_name?: string;
  mime_type?: string;
  width?: number;
  height?: number;
  /** Seconds, for videos and audio. */
  duration?: number;
}

export interface FileStore {
  byId: Map<string, FileRecord>;
  byPath: Map<string, FileRecord>;
  counter: number;
}

export function createFileStore(): FileStore {
  return { byId: new Map(), byPath: new Map(), counter: 0 };
}

const FOLDER: Record<FileKind, string> = {
  photo: "photos",
  document: "documents",
  video: "videos",
  audio: "music",
  sticker: "stickers",
  profile_photo: "profile_photos",
  chat_photo: "photos",
};

/** Reads width and height from PNG, GIF and JPEG headers; other data gets a square default. */
export function imageSize(data: Buffer): { width: number; height: number } {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47) {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.length >= 10 && data.toString("ascii", 0, 3) === "GIF") {
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < data.length) {
      if (data[offset] !== 0xff) break;
      const marker = data[offset + 1] as number;
      const length = data.readUInt16BE(offset + 2);
      const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (isFrame) {
        return { height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7) };
      }
      offset += 2 + length;
    }
  }
  return { width: 512, height: 512 };
}

/** The start of a file_id of each kind, as Telegram's look. */
const FILE_ID_PREFIX: Record<FileKind, string> = {
  photo: "AgAC",
  document: "BQAC",
  video: "BAAC",
  audio: "CQAC",
  sticker: "CAAC",
  profile_photo: "AgAC",
  chat_photo: "AgAC",
};

/** Kinds stored under the name they were given; the others by what they are. */
const EXTENSION: Partial<Record<FileKind, string>> = {
  video: "mp4",
  audio: "mp3",
  sticker: "webp",
};

/** Kinds that are pictures, which get a width and a height. */
const PICTURES: readonly FileKind[] = ["photo", "profile_photo", "chat_photo", "sticker"];

export function storeFile(
  store: FileStore,
  kind: FileKind,
  data: Buffer,
  meta: { file_name?: string; mime_type?: string } = {},
): FileRecord {
  store.counter += 1;
  const extension =
    kind === "document"
      ? (meta.file_name?.split(".").pop() ?? "bin").slice(0, 8)
      : (EXTENSION[kind] ?? "jpg");
  const digest = createHash("sha256")
    .update(data)
    .update(String(store.counter))
    .digest("base64url");
  const record: FileRecord = {
    file_id: `${FILE_ID_PREFIX[kind]}${randomString(60)}`,
    file_unique_id: `AQAD${digest.slice(0, 12)}`,
    file_path: `${FOLDER[kind]}/file_${store.counter}.${extension}`,
    kind,
    data,
    ...meta,
    ...(PICTURES.includes(kind) ? imageSize(data) : {}),
  };
  store.byId.set(record.file_id, record);
  store.byPath.set(record.file_path, record);
  return record;
}

export function storeUpload(store: FileStore, kind: FileKind, upload: Upload): FileRecord {
  return storeFile(store, kind, upload.data, {
    ...(upload.filename ? { file_name: upload.filename } : {}),
    ...(upload.mimetype ? { mime_type: upload.mimetype } : {}),
  });
}

export function photoSize(record: FileRecord) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    width: record.width ?? 512,
    height: record.height ?? 512,
    file_size: record.data.length,
  };
}

export function documentOf(record: FileRecord) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    ...(record.file_name ? { file_name: record.file_name } : {}),
    ...(record.mime_type ? { mime_type: record.mime_type } : {}),
    file_size: record.data.length,
  };
}

/** A Video object; a video the simulator can't play is 640×360 and 10 seconds long. */
export function videoOf(record: FileRecord) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    width: record.width ?? 640,
    height: record.height ?? 360,
    duration: record.duration ?? 10,
    ...(record.file_name ? { file_name: record.file_name } : {}),
    mime_type: record.mime_type ?? "video/mp4",
    file_size: record.data.length,
  };
}

/** An Audio object. */
export function audioOf(record: FileRecord) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    duration: record.duration ?? 60,
    ...(record.file_name ? { file_name: record.file_name } : {}),
    mime_type: record.mime_type ?? "audio/mpeg",
    file_size: record.data.length,
  };
}

export function fileObject(record: FileRecord) {
  return {
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    file_size: record.data.length,
    file_path: record.file_path,
  };
}
