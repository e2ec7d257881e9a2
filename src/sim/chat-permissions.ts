/**
 * What members of a group may do: the fields of the Bot API's
 * ChatPermissions object. The list is read from the derived Bot API
 * description (`spec/bot-api.json`), not written out by hand, so it always
 * holds every field the spec declares: a permission Telegram adds reaches
 * chats, restrictions and ChatMember objects as soon as the spec is derived
 * again. The price: TypeScript knows a permission only as `can_…`, so the
 * rules that name one (defaults, implications, what a kind of message needs)
 * are held to the spec's names by the tests, not the compiler.
 */
import { botApiSpec } from "./spec/spec.ts";

/** A ChatPermissions field; the spec names every one `can_…`. */
export type Permission = `can_${string}`;
export type Permissions = Record<Permission, boolean>;

/** The ChatPermissions fields in the spec's order, refusing a spec the model can't hold. */
function chatPermissionFields(): readonly Permission[] {
  const declared = botApiSpec().types.ChatPermissions;
  if (!declared || declared.subtypes) {
    throw new Error(
      "spec/bot-api.json has no ChatPermissions object; derive it again with scripts/derive-bot-api-spec.ts",
    );
  }
  return declared.fields.map((field) => {
    if (!field.name.startsWith("can_") || field.types.join() !== "Boolean") {
      throw new Error(
        `ChatPermissions.${field.name} in spec/bot-api.json is not a can_… Boolean; teach src/sim/chat-permissions.ts what it means`,
      );
    }
    return field.name as Permission;
  });
}

/** Every ChatPermissions field, in the spec's order. */
export const PERMISSIONS: readonly Permission[] = chatPermissionFields();

/** Every permission set to `value`. */
export function allPermissions(value: boolean): Permissions {
  return Object.fromEntries(PERMISSIONS.map((p) => [p, value])) as Permissions;
}

/** A ChatPermissions object as given: a permission is true only when given as `true`. */
export function givenPermissions(value: unknown): Permissions {
  const given = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(PERMISSIONS.map((p) => [p, given[p] === true])) as Permissions;
}

/** `base` with the permissions `changes` gives; the others stay as they were. */
export function changedPermissions(
  base: Permissions,
  changes: Partial<Permissions> | undefined,
): Permissions {
  // A Partial of a template-keyed record reads as possibly undefined; spreading skips what is absent.
  return { ...base, ...changes } as Permissions;
}

/**
 * Telegram's default permissions for a new group: members may do everything
 * but change its info, pin, manage topics and edit their tag.
 */
export function defaultChatPermissions(): Permissions {
  return {
    ...allPermissions(true),
    can_change_info: false,
    can_pin_messages: false,
    can_manage_topics: false,
    can_edit_tag: false,
  };
}
