import { actionShapes, chatShapes } from "./actions.ts";
import { auditShapes } from "./audit.ts";
import { botShapes, intakeShapes, replicaShapes } from "./bot.ts";
import { collectShapes } from "./collect.ts";
import { scenarioGlobalShapes, scenarioShapes } from "./scenario.ts";
import type { KeyShape } from "./shape.ts";
import { storeShapes } from "./store.ts";

/**
 * Warden's Redis key layout: every key shape, once, as data. A shape is known
 * by `<group>.<name>` (`collect.messages`); its group is the builder object
 * code uses (`collectKeys.messages`, see src/store/keys.ts). Nothing outside
 * src/store builds a key from strings; a test scans the Redis of a full
 * rehearsal and fails on any key declared here by no shape, and another checks
 * the README's key table against these declarations.
 *
 * Each shape that names a chat says what happens to it when a seized basic
 * group becomes a supergroup with a new chat id (`ChatMigration` in shape.ts,
 * carried out by src/store/migrate-chat.ts): what describes the group moves
 * with it, while message evidence stays under the id it was recorded under —
 * Telegram's message ids belong to the chat id they were sent under, and
 * exports list the earlier ids of migrated chats (src/collect/export/rows.ts).
 */
export const LAYOUT = {
  store: storeShapes,
  audit: auditShapes,
  collect: collectShapes,
  chat: chatShapes,
  action: actionShapes,
  bot: botShapes,
  intake: intakeShapes,
  replicas: replicaShapes,
  scenario: scenarioShapes,
  scenarioGlobal: scenarioGlobalShapes,
} as const;

export interface DeclaredShape extends KeyShape {
  /** `<group>.<name>`. */
  id: string;
}

/** Every declared shape, in declaration order. */
export const SHAPES: readonly DeclaredShape[] = Object.entries(LAYOUT).flatMap(([group, shapes]) =>
  Object.entries(shapes as Record<string, KeyShape>).map(([name, shape]) => ({
    id: `${group}.${name}`,
    ...shape,
  })),
);
