/**
 * The simulator's HTTP server: the Bot API, file downloads and the control
 * API on one fastify instance, plus `startSimulator` which listens on a port
 * and hands back everything a test or the CLI needs.
 */
import formbody from "@fastify/formbody";
import multipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { SimClient } from "../control/client.ts";
import { createSimulator, type Simulator, type SimulatorOptions } from "../simulator.ts";
import { applyWorld, loadWorld, loadWorldFile, type World } from "../world/load.ts";
import { registerBotApiRoutes } from "./bot-api.ts";
import { registerControlRoutes } from "./control.ts";

export interface SimulatorAppOptions extends SimulatorOptions {
  /** fastify's logger option; off by default. */
  logger?: FastifyServerOptions["logger"];
  /** A world to build: a parsed object, or the path of a YAML file. */
  world?: World | string;
}

export interface SimulatorApp {
  app: FastifyInstance;
  sim: Simulator;
  /** Tokens of the bots the loaded world defines, in order. */
  tokens: string[];
}

const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

function problem(status: number, description: string) {
  return JSON.stringify({ ok: false, error_code: status, description });
}

/** Builds the server without listening; `app.inject` drives it in-process. */
export async function createSimulatorApp(options: SimulatorAppOptions = {}): Promise<SimulatorApp> {
  const sim = createSimulator(options);
  const tokens: string[] = [];
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: MAX_UPLOAD_BYTES,
    forceCloseConnections: true,
    keepAliveTimeout: 75_000,
  });

  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        Object.assign(new Error("Bad Request: can't parse JSON object"), { statusCode: 400 }),
        undefined,
      );
    }
  });
  app.addContentTypeParser(
    ["text/yaml", "application/yaml", "application/x-yaml", "text/plain"],
    { parseAs: "string" },
    (_r, body, done) => done(null, String(body)),
  );
  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: MAX_UPLOAD_BYTES, fieldSize: 10 * 1024 * 1024, files: 20, fields: 200 },
  });
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, _body, done) =>
    done(null, undefined),
  );

  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = (error as Error).message;
    const description =
      status === 400 && !message.startsWith("Bad Request") ? `Bad Request: ${message}` : message;
    reply
      .code(status)
      .header("content-type", "application/json")
      .send(Buffer.from(problem(status, description)));
  });
  app.setNotFoundHandler((_request, reply) => {
    reply
      .code(404)
      .header("content-type", "application/json")
      .send(Buffer.from(problem(404, "Not Found")));
  });

  registerBotApiRoutes(app, () => sim);
  registerControlRoutes(
    app,
    () => sim,
    (added) => tokens.push(...added),
  );

  app.addHook("onClose", async () => {
    for (const bot of sim.world.bots.values()) {
      bot.updates.poll?.finish([]);
      bot.webhook = undefined;
      bot.updates.onEnqueue = undefined;
    }
  });

  if (options.world !== undefined) {
    const world =
      typeof options.world === "string" ? loadWorldFile(options.world) : loadWorld(options.world);
    tokens.push(...applyWorld(sim, world).bots.map((b) => b.token));
  }
  return { app, sim, tokens };
}

export interface StartOptions extends SimulatorAppOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface RunningSimulator {
  /** What grammY's `client.apiRoot` takes, e.g. `http://127.0.0.1:8081`. */
  apiRoot: string;
  /** Base URL of the server (same as apiRoot). */
  url: string;
  port: number;
  /** Typed client for the control API. */
  control: SimClient;
  /** Tokens of the bots the world defines (or that were created since). */
  tokens: string[];
  /** The in-process simulator state, for white-box inspection. */
  sim: Simulator;
  close(): Promise<void>;
}

export async function startSimulator(options: StartOptions = {}): Promise<RunningSimulator> {
  const { app, sim, tokens } = await createSimulatorApp(options);
  const host = options.host ?? "127.0.0.1";
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    apiRoot: url,
    url,
    port,
    control: new SimClient(url),
    tokens,
    sim,
    close: () => app.close(),
  };
}
