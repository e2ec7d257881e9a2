import type { ChatSnapshot } from "../../sim/index.ts";
import { buttonsOf } from "../rehearsal/keyboard.ts";
import type { Rehearsal } from "../rehearsal.ts";

/**
 * The chats of a rehearsal as the simulator holds them, shaped for the
 * studio's panes: the seized group as a member sees it (plus what was
 * deleted, marked), the control room with its buttons, and the bot's
 * private chats with members. Text stays raw here; the page shows it with
 * `textContent` and `visible` (src/base/html.ts), never as HTML.
 */
export interface MessageView {
  id: number;
  from: { id: number; name: string; bot: boolean };
  date: number;
  text: string;
  /** A placeholder for media: "photo", "video", … */
  media?: string;
  /** What a service message says. */
  service?: string;
  replyTo?: number;
  deleted?: boolean;
  edited?: boolean;
  buttons?: { text: string; data: string }[];
}

export interface GroupView {
  id: number;
  alias: string;
  title: string;
  description?: string;
  hasPhoto: boolean;
  pinned: MessageView[];
  /** What members may do now: each permission and whether it is on. */
  permissions: { name: string; on: boolean }[];
  messages: MessageView[];
  members: { id: number; name: string; status: string; until?: number }[];
}

export interface ChatsView {
  group: GroupView;
  controlRoom: { id: number; messages: MessageView[] };
  private: { user: { id: number; name: string }; messages: MessageView[] }[];
}

type Snapshot = ChatSnapshot;
type Msg = Snapshot["messages"][number];

const MEDIA = [
  "photo",
  "video",
  "document",
  "sticker",
  "voice",
  "animation",
  "audio",
  "video_note",
  "poll",
  "location",
  "contact",
] as const;

function nameOf(user: { first_name?: string; last_name?: string; title?: string } | undefined) {
  if (!user) return "someone";
  return user.title ?? ([user.first_name, user.last_name].filter(Boolean).join(" ") || "someone");
}

function serviceWords(m: Record<string, unknown>): string | undefined {
  if (typeof m.new_chat_title === "string") return `the title became “${m.new_chat_title}”`;
  if (m.new_chat_photo) return "the group photo was changed";
  if (m.delete_chat_photo) return "the group photo was removed";
  if (m.pinned_message) return "a message was pinned";
  if (Array.isArray(m.new_chat_members))
    return `${(m.new_chat_members as { first_name?: string }[]).map(nameOf).join(", ")} joined`;
  if (m.left_chat_member) return `${nameOf(m.left_chat_member as { first_name?: string })} left`;
  if (m.migrate_to_chat_id) return "the group became a supergroup";
  return undefined;
}

function messageView(s: Msg): MessageView {
  const m = s.message as unknown as Record<string, unknown>;
  const from = m.from as { id: number; first_name?: string; is_bot?: boolean } | undefined;
  const sender = m.sender_chat as { id: number; title?: string } | undefined;
  const media = MEDIA.find((k) => m[k] !== undefined);
  const reply = m.reply_to_message as { message_id?: number } | undefined;
  const buttons = (buttonsOf(s.message) ?? [])
    .filter((b) => b.callback_data !== undefined)
    .map((b) => ({ text: b.text, data: b.callback_data as string }));
  const service = s.is_service ? serviceWords(m) : undefined;
  return {
    id: s.message.message_id,
    from: {
      id: sender?.id ?? from?.id ?? s.sender_id ?? 0,
      name: nameOf(sender ?? from),
      bot: from?.is_bot === true,
    },
    date: s.message.date,
    text: String(m.text ?? m.caption ?? ""),
    ...(media ? { media: media.replace("_", " ") } : {}),
    ...(service ? { service } : {}),
    ...(reply?.message_id !== undefined ? { replyTo: reply.message_id } : {}),
    ...(s.deleted ? { deleted: true } : {}),
    ...(s.edits ? { edited: true } : {}),
    ...(buttons.length ? { buttons } : {}),
  };
}

function groupView(snapshot: Snapshot, alias: string): GroupView {
  const messages = snapshot.messages.map(messageView);
  const pinned = snapshot.pinned_message_ids
    .map((id) => messages.find((m) => m.id === id))
    .filter((m): m is MessageView => m !== undefined);
  const permissions = Object.entries(snapshot.permissions ?? {}).map(([name, on]) => ({
    name: name.replace(/^can_/, "").replaceAll("_", " "),
    on: on === true,
  }));
  return {
    id: snapshot.id,
    alias,
    title: snapshot.title ?? "",
    ...(snapshot.description ? { description: snapshot.description } : {}),
    hasPhoto: snapshot.photo !== null,
    pinned,
    permissions,
    messages,
    members: snapshot.members.flatMap((m) =>
      m.user
        ? [
            {
              id: m.user.id,
              name: nameOf(m.user),
              status: m.status,
              ...(m.until_date ? { until: m.until_date } : {}),
            },
          ]
        : [],
    ),
  };
}

export async function viewChats(r: Rehearsal): Promise<ChatsView> {
  const alias = Object.keys(r.aliases)[0] as string;
  const group = await r.control.chat(r.aliases[alias] as number);
  const room = await r.control.chat(r.room);
  const officers = new Set([r.operator, r.supervisor]);
  const names = new Map<number, string>();
  for (const m of group.members) if (m.user) names.set(m.user.id, nameOf(m.user));
  const privates: ChatsView["private"] = [];
  for (const id of Object.values(r.users)) {
    if (officers.has(id)) continue;
    const dialog = await r.control.chat(id, String(r.botId)).catch(() => undefined);
    if (!dialog || dialog.messages.length === 0) continue;
    const fromThem = dialog.messages.find((m) => m.sender_id === id)?.message.from;
    privates.push({
      user: { id, name: names.get(id) ?? (fromThem ? nameOf(fromThem) : String(id)) },
      messages: dialog.messages.map(messageView),
    });
  }
  return {
    group: groupView(group, alias),
    controlRoom: { id: r.room, messages: room.messages.map(messageView) },
    private: privates,
  };
}
