import { z } from "zod";
import { PERMISSIONS } from "../sim/chat-permissions.ts";
import { ADMIN_RIGHTS } from "../sim/model.ts";

/**
 * The world file as scenario authors write it (`scenarios/worlds/*.yaml`):
 * the seized group, its members and their messages, which the simulator
 * builds (`src/sim/world/load.ts` reads the same fields), plus a title and
 * description for people and the `rehearsal:` section `warden rehearse`
 * reads. Every object is strict, so a misspelt field is an error in editors
 * (through `scenarios/worlds/schema.json`, generated from this schema) and in
 * `warden world lint`, where the simulator would silently ignore it. A test
 * holds the fields to the simulator's.
 *
 * Times: `start` is a date and time (or Unix seconds); every `at` counts
 * seconds from it — forward on the timeline and in the script, backward
 * (negative) in a chat's history.
 */

const Ref = z
  .union([z.string().min(1), z.number().int()])
  .describe(
    "Someone or some chat of this world: its key (a person also by username), or its numeric id.",
  );

const AFTER_START =
  "Seconds after the world's start: 60 is a minute in, 3600 an hour, 86400 a day.";

const Permissions = z
  .strictObject(Object.fromEntries(PERMISSIONS.map((p) => [p, z.boolean().optional()])))
  .describe("What members may send, e.g. { can_send_messages: true, can_send_photos: false }.");

const Rights = z
  .union([
    z.literal("all"),
    z.strictObject(
      Object.fromEntries([...ADMIN_RIGHTS, "is_anonymous"].map((r) => [r, z.boolean().optional()])),
    ),
  ])
  .describe("An administrator's rights: all, or { can_delete_messages: true, … }.");

const File = z.union([
  z.boolean(),
  z.string(),
  z.strictObject({
    file_name: z.string().optional(),
    mime_type: z.string().optional(),
    content: z.string().optional(),
  }),
]);

const AlbumItem = z
  .strictObject({
    photo: z.union([z.boolean(), z.string()]).optional().describe("true: a photo."),
    video: File.optional().describe("true: a video."),
    document: File.optional(),
    caption: z.string().optional(),
  })
  .describe("One item of an album: a photo, a video or a document, with its own caption.");

const messageFields = {
  from: Ref.describe("Who writes it: a user's key or username."),
  text: z.string().optional(),
  caption: z.string().optional().describe("The caption of a photo, video or document."),
  photo: z.union([z.boolean(), z.string()]).optional().describe("true: a photo."),
  video: File.optional().describe("true: a video."),
  document: File.optional(),
  album: z
    .array(AlbumItem)
    .min(1)
    .max(10)
    .optional()
    .describe(
      "Instead of one message, 2 to 10 photos, videos or documents sent together; bots get one message per item, sharing a media_group_id.",
    ),
  delivery_order: z
    .union([z.array(z.number().int().min(0)), z.literal("reversed")])
    .optional()
    .describe(
      "The order bots receive an album's items in: item indexes such as [2, 0, 1], or reversed. Default: as sent.",
    ),
  topic: z
    .string()
    .optional()
    .describe(
      "The forum topic it is posted in: the key (or name) of one of the chat's topics, or of an earlier new_topic. Left out: General.",
    ),
  reply_to: z
    .string()
    .optional()
    .describe("The label of an earlier message in the same chat this one answers."),
  label: z.string().optional().describe("A name for this message, for reply_to: of later ones."),
  anonymous: z.boolean().optional().describe("Posted by an anonymous administrator."),
  sender_chat: Ref.optional().describe("Posted as this channel or group (a chat's key)."),
  forward_from: Ref.optional().describe("Forwarded from this user."),
  forward_from_chat: Ref.optional().describe(
    "Forwarded from a post of this channel (a chat's key).",
  ),
  forward_from_message_id: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("The id of the forwarded channel post."),
  forward_sender_name: z.string().optional(),
  via_bot: Ref.optional().describe("Sent through this inline bot (a bot's key)."),
};

const Topic = z
  .strictObject({
    key: z
      .string()
      .optional()
      .describe("How messages name this topic in topic: (default: its name)."),
    name: z.string().min(1),
    icon_color: z
      .number()
      .int()
      .min(0)
      .max(0xffffff)
      .optional()
      .describe(
        "The icon's colour: 7322096, 16766590, 13338331, 9367192, 16749490 or 16478047 (the default is the first).",
      ),
    creator: Ref.optional().describe("Who opened it (default: the owner)."),
    closed: z.boolean().optional().describe("Closed: only admins who manage topics write in it."),
  })
  .describe("A forum topic, opened before the chat's history.");

const Member = z
  .strictObject({
    user: Ref.describe("A user's or bot's key, or a username."),
    status: z
      .enum(["administrator", "member", "restricted", "left", "kicked"])
      .optional()
      .describe("Defaults to member."),
    rights: Rights.optional(),
    custom_title: z.string().max(16).optional(),
    permissions: Permissions.optional().describe(
      "For status: restricted, what they may still send.",
    ),
    until_date: z
      .number()
      .int()
      .optional()
      .describe("When a restriction or ban ends, as Unix seconds; or use for_seconds."),
    for_seconds: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("When a restriction or ban ends, in seconds after the world's start."),
  })
  .describe("Someone in the chat, and how.");

const Chat = z.strictObject({
  key: z
    .string()
    .optional()
    .describe("How the rest of the file names this chat (default: its title)."),
  id: z.number().int().negative().optional(),
  type: z.enum(["group", "supergroup", "channel"]),
  title: z.string().min(1),
  username: z.string().optional(),
  description: z.string().optional(),
  owner: Ref.describe("The user who owns the chat (a user's key)."),
  permissions: Permissions.optional().describe("What members may send by default."),
  is_forum: z.boolean().optional().describe("A supergroup with topics."),
  topics: z.array(Topic).optional().describe("Its topics (needs is_forum: true)."),
  members: z.array(Member).optional(),
  history: z
    .array(
      z.strictObject({
        ...messageFields,
        at: z
          .number()
          .max(0)
          .optional()
          .describe(
            "Seconds before the world's start, as a negative number: -3600 is an hour before; 0 or left out: at the start.",
          ),
      }),
    )
    .optional()
    .describe("Messages already in the chat when the rehearsal starts, oldest first."),
});

const User = z.strictObject({
  key: z
    .string()
    .optional()
    .describe("How the rest of the file names this person (default: username)."),
  id: z.number().int().positive().optional(),
  first_name: z.string().min(1),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z
    .string()
    .optional()
    .describe(
      "Their Telegram language (nl, en, ar, tr …): a scenario speaks to them in it if it can.",
    ),
  is_premium: z.boolean().optional(),
  bio: z.string().optional(),
});

const Bot = z.strictObject({
  key: z.string().optional(),
  id: z.number().int().positive().optional(),
  username: z.string(),
  first_name: z.string().optional(),
  token: z.string().optional(),
  privacy: z.boolean().optional().describe("Privacy mode; Telegram's default is on."),
});

const at = z.number().positive().describe(AFTER_START);
const Person = z.string().min(1).describe("A user's key.");

/** What members do besides posting in groups, played by `warden rehearse`. */
export const ScriptEntry = z.union([
  z
    .strictObject({
      at,
      private: Person.describe("Who writes to the bot in private."),
      text: z.string().min(1).optional(),
      photo: z.boolean().optional(),
    })
    .describe("Someone writes to the bot."),
  z
    .strictObject({
      at,
      press: Person.describe("Who presses a button under the bot's latest message to them."),
      button: z.string().min(1).describe("The button's text."),
    })
    .describe("Someone presses one of the bot's buttons."),
  z
    .strictObject({
      at,
      join_request: z.string().min(1).describe("The chat (its key)."),
      from: Person.describe("Who asks to join."),
    })
    .describe("Someone asks to join a chat."),
]);
export type ScriptEntry = z.infer<typeof ScriptEntry>;

/** The kinds of script entry: each has one of these keys. */
export const SCRIPT_KINDS = ["private", "press", "join_request"] as const;

const Key = z.string().min(1);

export const RehearsalSection = z
  .strictObject({
    scenarios: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        "Scenarios this world is made for (their ids); the first is rehearsed when none is named.",
      ),
    case: z
      .strictObject({
        id: z
          .string()
          .regex(/^[a-z0-9-]{1,40}$/, "a case id is lower-case letters, digits and hyphens"),
        title: z.string().min(1),
        authority: z
          .string()
          .min(1)
          .describe("The authority's reference, such as an order number."),
        purpose: z.string().min(1),
      })
      .optional(),
    operator: Key.optional().describe(
      "The user who plays the operator and starts the scenario (a user's key).",
    ),
    supervisor: Key.optional().describe(
      "The user who plays the supervisor and approves (a user's key); not the operator.",
    ),
    control_room: Key.optional().describe("The police's chat (a chat's key), with the bot in it."),
    seize: z
      .record(
        Key,
        z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "an alias is a short lower-case name like fw1"),
      )
      .optional()
      .describe("The chats to seize (their keys) and their aliases: { deals: fw1 }."),
    script: z.array(ScriptEntry).default([]).describe("What members do besides the timeline."),
  })
  .describe("What `warden rehearse` needs besides the world: the case, the police, the script.");
export type RehearsalSection = z.infer<typeof RehearsalSection>;

export const worldFileSchema = z
  .strictObject({
    title: z.string().min(1).max(200).optional().describe("What this world is, in a few words."),
    description: z.string().max(4000).optional(),
    start: z
      .union([z.string(), z.number()])
      .optional()
      .describe(
        "Where the simulated clock starts: a date and time such as 2026-12-27T19:00:00Z (Z: UTC), or Unix seconds. Every at: counts from here. Default: now.",
      ),
    users: z.array(User).optional(),
    bots: z.array(Bot).optional().describe("The first is the bot Warden runs as."),
    chats: z.array(Chat).optional(),
    timeline: z
      .array(
        z.strictObject({
          ...messageFields,
          at,
          chat: Ref.describe("The chat it is posted in (a chat's key)."),
          new_topic: z
            .strictObject({
              key: z
                .string()
                .optional()
                .describe("How later entries name it in topic: (default: its name)."),
              name: z.string().min(1),
              icon_color: z.number().int().min(0).max(0xffffff).optional(),
            })
            .optional()
            .describe(
              "Instead of a message, from: opens a forum topic (if Telegram lets them: an admin who manages topics, or members when the chat allows it).",
            ),
        }),
      )
      .optional()
      .describe("Messages members post as the simulated clock passes their at:."),
    rehearsal: RehearsalSection.optional(),
  })
  .describe("A Warden world: a seized group whose members chat, offer and write to the bot.");

export type WorldFile = z.infer<typeof worldFileSchema>;

/** The JSON Schema editors use for world files (`scenarios/worlds/schema.json`). */
export function worldJsonSchema(): string {
  const schema = z.toJSONSchema(worldFileSchema, { target: "draft-7", io: "input" });
  return `${JSON.stringify({ ...schema, title: "Warden world" }, null, 2)}\n`;
}
