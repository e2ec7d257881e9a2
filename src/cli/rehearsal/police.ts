import type { SimClient } from "../../sim/index.ts";
import type { Names } from "../transcript.ts";
import { buttonsOf } from "./keyboard.ts";

/**
 * The police in the control room: the operator types commands, and the
 * supervisor approves every request for approval the bot posts there, so the
 * scenario plays through. Both act through the simulator as people, so the
 * bot's commands and approval flow are the ones used on the day. What they
 * do is printed after everything the bot did before it, so a request is
 * always printed before its answer.
 */
export interface ControlRoom {
  control: SimClient;
  clock: { now(): number };
  botId: number;
  room: number;
  names: Names;
  /** Prints what happened so far, then what the officer does (see `./follow.ts`). */
  act(at: number, line: string): Promise<void>;
}

/** The operator types `text` in the control room. */
export async function operatorTypes(
  at: ControlRoom,
  operator: number,
  text: string,
): Promise<void> {
  await at.act(
    at.clock.now(),
    `${at.names.user(operator)} (operator) writes in the control room: ${text}`,
  );
  await at.control.sendMessage(at.room, { from_id: operator, text });
}

/**
 * The supervisor presses Approve under every approval request not answered
 * yet; `pressed` holds the requests already answered. Returns how many.
 */
export async function approvePending(
  at: ControlRoom,
  supervisor: number,
  pressed: Set<number>,
): Promise<number> {
  const snapshot = await at.control.chat(at.room);
  let count = 0;
  for (const m of snapshot.messages) {
    if (m.sender_id !== at.botId || pressed.has(m.message.message_id)) continue;
    const text = (m.message as { text?: string }).text;
    const approve = buttonsOf(m.message)?.find((b) => /^(ap|sa):.*:y$/.test(b.callback_data ?? ""));
    if (!approve?.callback_data || !text?.includes("Approval needed")) continue;
    pressed.add(m.message.message_id);
    await at.act(
      at.clock.now(),
      `${at.names.user(supervisor)} (supervisor) presses “${approve.text}” under Warden's request for approval`,
    );
    await at.control.pressButton({
      from_id: supervisor,
      chat_id: at.room,
      message_id: m.message.message_id,
      data: approve.callback_data,
    });
    count++;
  }
  return count;
}

/** A request for approval in the control room, not answered yet, as the bot posted it. */
export interface PendingApproval {
  messageId: number;
  text: string;
  buttons: { text: string; data: string }[];
}

/** The requests for approval in the control room whose buttons are still there. */
export async function pendingApprovals(at: ControlRoom): Promise<PendingApproval[]> {
  const snapshot = await at.control.chat(at.room);
  const out: PendingApproval[] = [];
  for (const m of snapshot.messages) {
    if (m.sender_id !== at.botId || m.deleted) continue;
    const text = (m.message as { text?: string }).text ?? "";
    const buttons = (buttonsOf(m.message) ?? [])
      .filter((b) => /^(ap|sa):/.test(b.callback_data ?? ""))
      .map((b) => ({ text: b.text, data: b.callback_data as string }));
    if (buttons.length > 0 && text.includes("Approval needed"))
      out.push({ messageId: m.message.message_id, text, buttons });
  }
  return out;
}

/** The supervisor presses one button (Approve or Reject) under a request. */
export async function pressAsSupervisor(
  at: ControlRoom,
  supervisor: number,
  request: PendingApproval,
  data: string,
): Promise<void> {
  const button = request.buttons.find((b) => b.data === data);
  if (!button) throw new Error("that button is not under this request");
  await at.act(
    at.clock.now(),
    `${at.names.user(supervisor)} (supervisor) presses “${button.text}” under Warden's request for approval`,
  );
  await at.control.pressButton({
    from_id: supervisor,
    chat_id: at.room,
    message_id: request.messageId,
    data,
  });
}
