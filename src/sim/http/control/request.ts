/**
 * Reading a control request: whole numbers from the path, query or body,
 * required fields, and the chat a `/sim/chats/:id/…` route names. Each
 * refusal names the field, so a test author sees what to fix.
 */
import type { FastifyRequest } from "fastify";
import { controlInvalid } from "../../errors.ts";
import type { ChatState } from "../../model.ts";
import type { Simulator } from "../../simulator.ts";
import { requireChat, requireChatOrDialog } from "../../world/chats.ts";
import type { Body } from "./route.ts";

/** A whole number given as a JSON number or as text (path and query values are text). */
export function integerParam(value: unknown, name: string): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n)) throw controlInvalid(`${name} must be an integer`);
  return n;
}

/** A field the body must have (not null). */
export function requiredField<T>(body: Body, name: string): T {
  const value = body[name];
  if (value === undefined || value === null) throw controlInvalid(`${name} is required`);
  return value as T;
}

/** The route's path parameters (`:id`, `:ref`, …). */
export function pathParams(request: FastifyRequest): Record<string, string> {
  return request.params as Record<string, string>;
}

/**
 * The chat `:id` names: a group, or for a user id that user's dialog with the
 * bot named by `bot` in the body or, failing that, the query.
 */
export function pathChat(sim: Simulator, request: FastifyRequest, body: Body = {}): ChatState {
  return requireChatOrDialog(
    sim,
    integerParam(pathParams(request).id, "chat id"),
    (body.bot ?? (request.query as Body).bot) as string | undefined,
  );
}

/** The group, supergroup or channel `:id` names (never a private dialog). */
export function pathGroup(sim: Simulator, request: FastifyRequest): ChatState {
  return requireChat(sim, integerParam(pathParams(request).id, "chat id"));
}
