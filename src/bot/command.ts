import type { ApprovalSubject } from "../actions/approvals.ts";
import type { ActionScope } from "../actions/context.ts";
import type { SeizedChat } from "../store/cases.ts";
import type { Caller } from "./access.ts";
import type { FeatureDeps } from "./deps.ts";

/**
 * An operator command as data: its name, who may use it, what it needs, and
 * what it does. The same `run` serves a command given directly and one a
 * supervisor approved, so approval never changes what a command does.
 * Commands that run a catalog action are made from the catalog
 * (`features/action-commands.ts`); the others (`/check`, `/status`, `/who`,
 * `/scenario` …) are written out.
 */

export type Reply = (html: string) => Promise<void>;

export interface CommandRun {
  deps: FeatureDeps;
  caller: Caller;
  /** The message the command replied to, if any: a way to name a target. */
  replyTo?: { messageId: number; senderId?: number };
  args: string[];
  reply: Reply;
  chat?: SeizedChat;
  scope?: ActionScope;
  /** Identifies the request (`cmd:<chat>:<message>`), the same for a command and its approved run. */
  requestKey?: string;
  updateIds?: number[];
}

/** Why a command must wait for a supervisor, and what the supervisor's approval will then run. */
export interface ApprovalNeed {
  why: string;
  subject: ApprovalSubject;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Arguments after the alias, for the usage line. */
  args: string;
  role: "auditor" | "operator" | "supervisor";
  /** Whether it acts on one seized chat (named by alias in the control room). */
  needsChat: boolean;
  /**
   * Whether this use changes anything (default: every command but an
   * auditor's, which only read). Nothing that acts is run in a closed case.
   */
  acts?: (args: string[]) => boolean;
  /** What must be approved first, or undefined to run at once. */
  needsApproval?: (run: CommandRun) => Promise<ApprovalNeed | undefined>;
  run(run: CommandRun): Promise<void>;
}

export function usage(spec: CommandSpec, where: "control-room" | "seized"): string {
  return [`/${spec.name}`, spec.needsChat && where === "control-room" ? "<alias>" : "", spec.args]
    .filter(Boolean)
    .join(" ");
}

/** Whether a command, given these arguments, would change anything. */
export function commandActs(spec: CommandSpec, args: string[]): boolean {
  return spec.acts ? spec.acts(args) : spec.role !== "auditor";
}
