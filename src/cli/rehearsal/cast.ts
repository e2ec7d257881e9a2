import type { SimClient } from "../../sim/index.ts";
import type { RehearsalSection } from "../rehearsal-world.ts";

/**
 * Who plays whom: the world built in the simulator, the bot Warden runs as,
 * and the police — operator, supervisor and their control room — taken from
 * the world's `rehearsal:` section where it names them and made up here
 * where it does not, and the chats to seize. The simulator hands out ids in
 * the order things are made, so the calls here keep one order: the same
 * world gets the same ids in every rehearsal.
 */

/** A world's keys and the simulator's ids for them; `path` names the file in errors. */
export interface WorldIds {
  path: string;
  users: Record<string, number>;
  chats: Record<string, number>;
}

export interface Cast extends WorldIds {
  bot: { id: number; token: string };
  operator: number;
  supervisor: number;
  room: number;
  /** World chat key → alias. */
  seize: Record<string, string>;
}

/** The id of a user or chat the rehearsal section names by its world key. */
export function idOf(world: WorldIds, kind: "user" | "chat", key: string): number {
  const id = (kind === "user" ? world.users : world.chats)[key];
  if (id === undefined)
    throw new Error(
      `${world.path}: the rehearsal section names ${kind} "${key}", which the world does not define`,
    );
  return id;
}

export async function castWorld(
  control: SimClient,
  world: { path: string; text: string; section: RehearsalSection },
): Promise<Cast> {
  const loaded = await control.loadWorld(world.text);
  const bot = loaded.bots[0];
  if (!bot) throw new Error(`${world.path} defines no bot for Warden: add one under bots:`);
  const ids: WorldIds = {
    path: world.path,
    users: { ...loaded.users },
    chats: { ...loaded.chats },
  };
  const { section } = world;
  const operator = await officer(control, ids, section.operator, ["Duty", "Officer"]);
  const supervisor = await officer(control, ids, section.supervisor, ["Team", "Lead"]);
  const room = await controlRoom(control, ids, section.control_room, {
    operator,
    supervisor,
    bot: bot.id,
  });
  const seize =
    section.seize && Object.keys(section.seize).length > 0
      ? section.seize
      : await firstSupergroup(control, ids, room);
  return { ...ids, bot, operator, supervisor, room, seize };
}

/** The world's user under `key`, or a made-up Dutch-speaking officer when the section names none. */
async function officer(
  control: SimClient,
  world: WorldIds,
  key: string | undefined,
  [first, last]: [string, string],
): Promise<number> {
  if (key !== undefined) return idOf(world, "user", key);
  return (await control.createUser({ first_name: first, last_name: last, language_code: "nl" })).id;
}

/**
 * The world's chat under `key`, or a made-up supergroup the operator owns,
 * with the supervisor in it and the bot as a full admin.
 */
async function controlRoom(
  control: SimClient,
  world: WorldIds,
  key: string | undefined,
  who: { operator: number; supervisor: number; bot: number },
): Promise<number> {
  if (key !== undefined) return idOf(world, "chat", key);
  const room = (
    await control.createChat({
      type: "supergroup",
      title: "Warden control room",
      owner_id: who.operator,
    })
  ).id;
  await control.join(room, who.supervisor);
  await control.join(room, who.bot);
  await control.promote(room, who.bot, "all");
  return room;
}

/** When the section seizes nothing: the world's first supergroup besides the control room, as fw1. */
async function firstSupergroup(
  control: SimClient,
  world: WorldIds,
  room: number,
): Promise<Record<string, string>> {
  const group = (await control.chats()).find((c) => c.type === "supergroup" && c.id !== room);
  if (!group) throw new Error(`${world.path} has no supergroup to seize`);
  const key =
    Object.entries(world.chats).find(([, id]) => id === group.id)?.[0] ?? String(group.id);
  return { [key]: "fw1" };
}
