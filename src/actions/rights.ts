/**
 * Which admin right each action needs. /check compares the bot's rights with
 * this table, and the scenario linter checks a script declares what it uses.
 */
export const RIGHTS_NEEDED = {
  warn: [],
  announce: [],
  pin: ["can_pin_messages"],
  unpin: ["can_pin_messages"],
  freeze: ["can_restrict_members"],
  thaw: ["can_restrict_members"],
  lockdown: ["can_change_info", "can_invite_users"],
  restrict: ["can_restrict_members"],
  ban: ["can_restrict_members"],
  unban: ["can_restrict_members"],
  kick: ["can_restrict_members"],
  purge: ["can_delete_messages"],
} as const satisfies Record<string, readonly string[]>;

export type ActionName = keyof typeof RIGHTS_NEEDED;
