/**
 * Bot API failures. Every refusal the simulator gives travels as a
 * `BotApiError` until the HTTP layer turns it into Telegram's envelope
 * `{"ok":false,"error_code":N,"description":"…","parameters":{…}}`, so method
 * code can simply `throw` the same way the real server bails out.
 */

/** The `parameters` object Telegram attaches to some errors. */
export interface ResponseParameters {
  migrate_to_chat_id?: number;
  retry_after?: number;
}

export class BotApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
    this.name = "BotApiError";
  }
}

export function badRequest(reason: string, parameters?: ResponseParameters): BotApiError {
  return new BotApiError(400, `Bad Request: ${reason}`, parameters);
}

export function forbidden(reason: string): BotApiError {
  return new BotApiError(403, `Forbidden: ${reason}`);
}

export function conflict(reason: string): BotApiError {
  return new BotApiError(409, `Conflict: ${reason}`);
}

export function unauthorized(): BotApiError {
  return new BotApiError(401, "Unauthorized");
}

export function methodNotFound(): BotApiError {
  return new BotApiError(404, "Not Found: method not found");
}

export function tooManyRequests(retryAfter: number): BotApiError {
  return new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, {
    retry_after: retryAfter,
  });
}

/** Raised by the control API: the simulated world refuses an action. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(description);
    this.name = "ControlError";
  }
}

export function controlNotFound(what: string): ControlError {
  return new ControlError(404, `${what} not found`);
}

export function controlInvalid(reason: string): ControlError {
  return new ControlError(400, reason);
}

/** The simulated world refuses a person what Telegram would refuse them (403). */
export function controlForbidden(reason: string): ControlError {
  return new ControlError(403, reason);
}
