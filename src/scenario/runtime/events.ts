/**
 * What the scenario engine hears from the bot: members' messages, joins,
 * leaves, join requests and private messages, already reduced to what
 * triggers look at. The bot (src/bot/features/scenario.ts) builds these from
 * Telegram updates, after the recorder has persisted them; the engine never
 * sees grammY's context.
 */

export interface Member {
  id: number;
  firstName: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

export interface EventMessage {
  id: number;
  /** What the message is judged by: its words, links, forward origin… (src/collect/offer-text.ts). */
  text: string;
  /**
   * An edit that made a harmless message an offer. Only `trade_offer` triggers
   * hear it: keywords were matched, or not, when the message was new.
   */
  edited?: boolean;
  /** A photo, document, sticker… (with or without caption). */
  media: boolean;
  /** Starts with a bot command such as /start. */
  command: boolean;
  /** In a forum: the topic's thread id (1 for General). */
  topic?: number;
  replyTo?: { id: number; fromId?: number };
  /** The detector's verdict (from the recorder, with the case's lexicon) when it is an offer. */
  offer?: { score: number; rules: string[] };
}

export interface ScenarioEvent {
  kind: "message" | "private_message" | "join" | "leave" | "join_request";
  /** The group, or for private messages the member's private chat (= their id). */
  chatId: number;
  /** The case the recorder filed it under, when known (saves a lookup). */
  caseId?: string;
  updateId: number;
  /** When it happened (ms), from Telegram's date: limits and ladders count by this, not by when it was handled. */
  at?: number;
  member: Member;
  message?: EventMessage;
}

/** A conversation the engine wants started: the bot enters it in the right chat. */
export interface ConversationStart {
  caseId: string;
  runId: string;
  /** The conversation's name under `conversations:`. */
  name: string;
  /** Where it runs: the member's private chat, or the group for `where: reply`. */
  chatId: number;
  userId: number;
  /** The message to reply to, for `where: reply`. */
  replyTo?: number;
  language: string;
  member: Member;
  /** Distinguishes this conversation from earlier ones with the same member (the starting update). */
  nonce: string;
  /** The phase and trigger that started it, for the audit log. */
  origin: string;
}

export function memberName(m: Member): string {
  return [m.firstName, m.lastName].filter(Boolean).join(" ") || String(m.id);
}

/** Synthetic updates the engine hands to the bot: a conversation to start, or a question that timed out. */
export interface SyntheticUpdate {
  update_id: number;
  warden_scenario:
    | { kind: "start"; chat_id: number; user_id: number; start: ConversationStart }
    | { kind: "timeout"; chat_id: number; user_id: number; ask: string };
}

export function syntheticOf(update: object): SyntheticUpdate["warden_scenario"] | undefined {
  return (update as Partial<SyntheticUpdate>).warden_scenario;
}
