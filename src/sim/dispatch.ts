/**
 * One Bot API call from token to envelope: authenticate the bot, find the
 * method (case-insensitively), apply injected faults, read the parameters
 * against the spec, run the method, optionally self-check the result, and
 * log the call. Independent of HTTP so it can be driven in-process.
 */
import { BotApiError, badRequest, ControlError, methodNotFound, unauthorized } from "./errors.ts";
import { TOKEN_PATTERN } from "./ids.ts";
import { botMethods } from "./methods/bot.ts";
import { chatMethods } from "./methods/chat.ts";
import type { MethodHandler } from "./methods/context.ts";
import { forumMethods } from "./methods/forum.ts";
import { memberMethods } from "./methods/members.ts";
import { messageMethods } from "./methods/messages.ts";
import { updateMethods } from "./methods/updates.ts";
import type { BotState } from "./model.ts";
import type { Simulator } from "./simulator.ts";
import { type Params, readParams, type Upload } from "./spec/params.ts";
import { botApiSpec, canonicalMethodName } from "./spec/spec.ts";
import { createValidator, type Validator } from "./spec/validate.ts";

export interface BotApiRequest {
  token: string;
  method: string;
  params: Params;
  uploads?: Map<string, Upload>;
  signal?: AbortSignal;
}

export interface BotApiResponse {
  status: number;
  body:
    | { ok: true; result: unknown }
    | { ok: false; error_code: number; description: string; parameters?: object };
  headers: Record<string, string>;
}

let validator: Validator | undefined;

function methodTable(sim: Simulator): Record<string, MethodHandler> {
  const inlineCall = (bot: BotState, method: string, params: Params) =>
    callBotApi(sim, { token: bot.token, method, params });
  return {
    ...botMethods,
    ...updateMethods(inlineCall),
    ...messageMethods,
    ...memberMethods,
    ...chatMethods,
    ...forumMethods,
  };
}

const tables = new WeakMap<Simulator, Record<string, MethodHandler>>();

/** Names of the spec methods the simulator implements. */
export function implementedMethods(sim: Simulator): string[] {
  return Object.keys(handlers(sim)).sort();
}

function handlers(sim: Simulator) {
  let table = tables.get(sim);
  if (!table) {
    table = methodTable(sim);
    tables.set(sim, table);
  }
  return table;
}

function failure(error: BotApiError): BotApiResponse {
  return {
    status: error.code,
    body: {
      ok: false,
      error_code: error.code,
      description: error.description,
      ...(error.parameters ? { parameters: error.parameters } : {}),
    },
    headers:
      error.parameters?.retry_after !== undefined
        ? { "retry-after": String(error.parameters.retry_after) }
        : {},
  };
}

function loggableParams(params: Params): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(params)) {
    if (value && typeof value === "object" && "upload" in value) {
      const upload = (value as { upload: Upload }).upload;
      out[key] = { upload: { filename: upload.filename, size: upload.data.length } };
    } else {
      out[key] = value;
    }
  }
  return out;
}

const NEVER_ABORTED = new AbortController().signal;

export async function callBotApi(sim: Simulator, request: BotApiRequest): Promise<BotApiResponse> {
  const receivedAt = Date.now();
  if (!TOKEN_PATTERN.test(request.token)) return failure(unauthorized());
  const bot = sim.world.botsByToken.get(request.token);
  if (!bot) return failure(unauthorized());
  const method = canonicalMethodName(request.method);
  if (!method) return failure(methodNotFound());

  let response: BotApiResponse;
  let params: Params = request.params;
  try {
    const fault = sim.faults.take(method);
    if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault?.error)
      throw new BotApiError(fault.error.code, fault.error.description, fault.error.parameters);
    const handler = handlers(sim)[method];
    if (!handler) throw badRequest(`method not supported by the simulator: ${method}`);
    const declared = botApiSpec().methods[method];
    if (!declared) throw methodNotFound();
    params = readParams(declared, request.params, request.uploads ?? new Map());
    const result = await handler({
      sim,
      bot,
      params,
      raw: request.params,
      uploads: request.uploads ?? new Map(),
      signal: request.signal ?? NEVER_ABORTED,
    });
    response = { status: 200, body: { ok: true, result }, headers: {} };
    if (sim.selfCheck) {
      validator ??= createValidator();
      const violations = validator.checkResult(method, result);
      if (violations.length > 0) {
        sim.violations.push({ method, violations });
        response = {
          status: 500,
          body: {
            ok: false,
            error_code: 500,
            description: `Internal Server Error: simulator produced an invalid ${method} result: ${violations
              .slice(0, 5)
              .map((v) => `${v.path} ${v.message}`)
              .join("; ")}`,
          },
          headers: {},
        };
      }
    }
  } catch (error) {
    if (error instanceof ControlError) {
      // A world rule refused what the method tried (say, approving a banned user).
      response = failure(badRequest(error.description));
    } else if (error instanceof BotApiError) {
      response = failure(error);
    } else {
      throw error;
    }
  }

  const record = sim.calls.append({
    bot_id: bot.user.id,
    method,
    params: loggableParams(params),
    ok: response.body.ok,
    ...(response.body.ok
      ? { result: response.body.result }
      : {
          error_code: response.body.error_code,
          description: response.body.description,
          ...(response.body.parameters ? { parameters: response.body.parameters } : {}),
        }),
    time: sim.clock.now(),
    received_at: receivedAt,
    answered_at: Date.now(),
  });
  sim.events.emit("call", record);
  return response;
}
