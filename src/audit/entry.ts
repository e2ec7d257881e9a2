/**
 * The shape of one audit entry. Entries are stored as RFC 8785 canonical JSON so
 * that their bytes, and so their hashes, are the same wherever they are rebuilt.
 */

/** The six operations Article 25 of Directive 2016/680 requires to be logged. */
export const ARTICLE_25_OPS = [
  "collect",
  "alter",
  "consult",
  "disclose",
  "combine",
  "erase",
] as const;

export type ActorKind = "operator" | "supervisor" | "auditor" | "system" | "scenario" | "cli";

export interface Actor {
  kind: ActorKind;
  /** Telegram user id, where the actor is a Telegram user. */
  id?: number;
  /** Display name, or for `cli` the operating-system user that ran the command. */
  name?: string;
  /** The role the actor held in the case at that moment. */
  role?: "operator" | "supervisor" | "auditor";
}

export type Phase = "intent" | "outcome" | "refused" | "info";

export interface Target {
  chat_id?: number;
  alias?: string;
  user_ids?: number[];
}

export type Result =
  | { ok: true; [detail: string]: unknown }
  | { ok: false; error_code?: number; description: string; [detail: string]: unknown }
  | { ok: "unknown"; description: string };

export interface ScenarioRef {
  id: string;
  hash: string;
  step: string;
}

/** What a caller supplies; the log adds seq, ts, software, prev and the case's authority and purpose. */
export interface AuditEntryInput {
  case: string;
  actor: Actor;
  op: string;
  phase: Phase;
  target?: Target;
  params?: Record<string, unknown>;
  result?: Result;
  /** Defaults to the case's authority. */
  authority?: string;
  /** Defaults to the case's purpose. */
  purpose?: string;
  /** Required for `consult` and `disclose`. */
  justification?: string;
  /** Required for `disclose`: who receives the data. */
  recipients?: string[];
  update_ids?: number[];
  scenario?: ScenarioRef;
  /** For an outcome: the seq of the intent it closes. */
  intent_seq?: number;
}

export interface AuditEntry extends AuditEntryInput {
  seq: number;
  ts: string;
  authority: string;
  purpose: string;
  software: { version: string; commit: string };
  /** Hex SHA-256 leaf hash of the previous entry; 64 zeros for the first. */
  prev: string;
}

export const GENESIS_PREV = "0".repeat(64);
