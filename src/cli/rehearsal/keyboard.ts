/**
 * The inline keyboard under a message the bot sent, read from the simulator's
 * untyped record of the message or of the call that sent it. Members and the
 * supervisor press these buttons; the transcript shows them.
 */
export interface InlineButton {
  text: string;
  callback_data?: string;
}

/** The buttons of a `reply_markup`, rows joined; undefined when it is no inline keyboard. */
export function inlineButtons(markup: unknown): InlineButton[] | undefined {
  return (markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard?.flat();
}

/** The buttons under a message as the simulator keeps it. */
export function buttonsOf(message: unknown): InlineButton[] | undefined {
  return inlineButtons((message as { reply_markup?: unknown }).reply_markup);
}
