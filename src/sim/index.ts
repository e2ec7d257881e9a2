/**
 * A faithful Telegram Bot API simulator. An unmodified grammY bot talks to
 * it over HTTP (`client.apiRoot`), while tests and scenarios play everyone
 * else through the control API. It stands in for Telegram, so nothing here
 * depends on the rest of Warden.
 */

export type { TgChat, TgMessage, TgUpdate, TgUser } from "./bot-api-objects.ts";
export type { CallRecord } from "./calls.ts";
export type { Permissions } from "./chat-permissions.ts";
export { runSimulatorCli, type SimulatorCliOptions } from "./cli.ts";
export {
  type BotSnapshot,
  type ChatSnapshot,
  type ForumTopic,
  type MemberAlbumInput,
  type MemberAlbumItem,
  type MemberMessageInput,
  type NewChatInput,
  type NewUserInput,
  type PlayedMessage,
  SimClient,
  SimControlError,
  type TopicsSnapshot,
} from "./control/client.ts";
export {
  type BotApiRequest,
  type BotApiResponse,
  callBotApi,
  implementedMethods,
} from "./dispatch.ts";
export {
  createSimulatorApp,
  type RunningSimulator,
  type SimulatorApp,
  type SimulatorAppOptions,
  type StartOptions,
  startSimulator,
} from "./http/server.ts";
export { CHANNEL_BOT, GROUP_ANONYMOUS_BOT } from "./ids.ts";
export type { AdminRights } from "./model.ts";
export type { Simulator, SimulatorOptions } from "./simulator.ts";
export { botApiSpec } from "./spec/spec.ts";
export { createValidator, type Validator, type Violation } from "./spec/validate.ts";
export { type LoadedWorld, loadWorld, loadWorldFile, type World } from "./world/load.ts";
