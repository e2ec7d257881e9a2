/**
 * The Bot API over HTTP, as api.telegram.org serves it: `GET` or `POST`
 * `/bot<token>/<method>` with parameters in the query string, a JSON body, a
 * form body or a multipart body (whose file parts InputFile fields reference
 * with `attach://`), and files at `/file/bot<token>/<file_path>`.
 */
import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callBotApi } from "../dispatch.ts";
import type { Simulator } from "../simulator.ts";
import type { Params, Upload } from "../spec/params.ts";

function json(
  reply: FastifyReply,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return reply
    .code(status)
    .headers({ "content-type": "application/json", ...headers })
    .send(Buffer.from(JSON.stringify(body)));
}

async function readRequest(
  request: FastifyRequest,
): Promise<{ params: Params; uploads: Map<string, Upload> }> {
  const params: Params = { ...(request.query as Params) };
  const uploads = new Map<string, Upload>();
  if (request.isMultipart()) {
    for await (const part of request.parts()) {
      if (part.type === "file") {
        uploads.set(part.fieldname, {
          data: await part.toBuffer(),
          ...(part.filename ? { filename: part.filename } : {}),
          ...(part.mimetype ? { mimetype: part.mimetype } : {}),
        });
      } else {
        params[part.fieldname] = part.value;
      }
    }
  } else if (request.body && typeof request.body === "object" && !Buffer.isBuffer(request.body)) {
    Object.assign(params, request.body);
  }
  return { params, uploads };
}

/**
 * Aborts when the client hangs up before its answer is sent. It watches the
 * response, not the request: a request emits `close` as soon as its body has
 * been read, so a long poll sent as POST looked cancelled before it began and
 * the poll's own listener, added later, never heard of the real hang-up.
 */
function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (response.closed) {
    controller.abort();
  } else {
    response.once("close", () => {
      if (!response.writableFinished) controller.abort();
    });
  }
  return controller.signal;
}

/** Splits `<token>/<method>` (what follows `/bot`). */
function splitPath(rest: string): [string, string] | undefined {
  const slash = rest.indexOf("/");
  if (slash === -1) return undefined;
  return [decodeURIComponent(rest.slice(0, slash)), rest.slice(slash + 1)];
}

export function registerBotApiRoutes(app: FastifyInstance, sim: () => Simulator) {
  app.route({
    method: ["GET", "POST"],
    url: "/bot*",
    handler: async (request, reply) => {
      const rest = (request.params as { "*": string })["*"];
      const parts = splitPath(rest);
      if (!parts || parts[1] === "" || parts[1].includes("/")) {
        return json(reply, 404, { ok: false, error_code: 404, description: "Not Found" });
      }
      const [token, method] = parts;
      // Only a long poll waits for anything: it alone needs to know when its client went away.
      // (Aborting one per request built a DOMException for every call: without it the simulator
      // went from about 4,000 to 6,600 sendMessage calls/s in bench/sim.ts.)
      const signal = method.toLowerCase() === "getupdates" ? clientGone(reply.raw) : undefined;
      const { params, uploads } = await readRequest(request);
      const response = await callBotApi(sim(), {
        token,
        method,
        params,
        uploads,
        ...(signal ? { signal } : {}),
      });
      return json(reply, response.status, response.body, response.headers);
    },
  });

  app.get("/file/bot*", async (request, reply) => {
    const parts = splitPath((request.params as { "*": string })["*"]);
    const bot = parts ? sim().world.botsByToken.get(parts[0]) : undefined;
    if (!bot) return json(reply, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    const record = parts ? sim().files.byPath.get(parts[1]) : undefined;
    if (!record)
      return json(reply, 404, {
        ok: false,
        error_code: 404,
        description: "Not Found: file not found",
      });
    return reply
      .code(200)
      .header(
        "content-type",
        record.mime_type ??
          (["document", "video", "audio"].includes(record.kind)
            ? "application/octet-stream"
            : "image/jpeg"),
      )
      .send(record.data);
  });
}
