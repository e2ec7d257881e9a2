/**
 * How a control route is declared and answered. A handler returns its result
 * or throws; the route turns that into the control API's envelope, so every
 * answer is `{"ok":true,"result":…}` or
 * `{"ok":false,"error_code":N,"description":"…"}` with the HTTP status equal
 * to `error_code`, and no handler formats a reply itself.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BotApiError, ControlError } from "../../errors.ts";

/** A JSON request body; anything else (no body, YAML text) reads as `{}`. */
export type Body = Record<string, unknown>;

/** Answers one control request; `undefined` answers `true`. */
export type ControlHandler = (request: FastifyRequest, body: Body) => unknown;

/** Declares one control route. */
export type ControlRoute = (
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  handler: ControlHandler,
) => void;

function send(reply: FastifyReply, status: number, payload: unknown) {
  return reply
    .code(status)
    .header("content-type", "application/json")
    .send(Buffer.from(JSON.stringify(payload)));
}

/**
 * The route declarer for `app`. Refusals (ControlError, or a BotApiError a
 * world rule raised) become error envelopes; anything else is a simulator bug
 * and goes on to fastify's error handler as a 500.
 */
export function controlRouter(app: FastifyInstance): ControlRoute {
  return (method, url, handler) => {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        try {
          const body = (
            request.body && typeof request.body === "object" ? request.body : {}
          ) as Body;
          const result = await handler(request, body);
          return send(reply, 200, { ok: true, result: result ?? true });
        } catch (error) {
          if (error instanceof ControlError) {
            return send(reply, error.status, {
              ok: false,
              error_code: error.status,
              description: error.description,
            });
          }
          if (error instanceof BotApiError) {
            return send(reply, error.code, {
              ok: false,
              error_code: error.code,
              description: error.description,
            });
          }
          throw error;
        }
      },
    });
  };
}
