import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";

/**
 * The HTTP server Telegram posts updates to (`BOT_MODE=webhook`), and the
 * health routes a load balancer asks.
 *
 * `POST <path of WEBHOOK_URL>`:
 * - without the right `X-Telegram-Bot-Api-Secret-Token`: 401, before the body
 *   is read (the connection is closed rather than drained); the header is
 *   compared in constant time;
 * - a body over `bodyLimit` (1 MiB; updates are a few KiB): 413, at once when
 *   its Content-Length says so; not JSON: 415; malformed JSON or not an
 *   update (an object with a whole `update_id`): 400;
 * - otherwise the update is handed to `accept` (the intake queue) and the
 *   answer is 200 only once that resolved, i.e. once Redis has acknowledged
 *   the update: Telegram forgets it on a 2xx. Should Redis not answer within
 *   `acceptTimeoutMs`: 503, and Telegram delivers it again later.
 *
 * `GET /healthz` and `GET /readyz`: see `healthRoutes`.
 */

export interface WebhookServerOptions {
  /** WEBHOOK_URL: its path is the route Telegram posts to. */
  url: string;
  secret: string;
  host: string;
  port: number;
  /** What this process does, for /readyz (`mode`, `role`, …). */
  status(): Record<string, unknown>;
  /** Queues the update (its id, its JSON, as parsed) durably; resolves once it is safe to answer 200. */
  accept(updateId: number, json: string, update: object): Promise<unknown>;
  /** Whether the store answers now (for /readyz). */
  storeReachable(): Promise<boolean>;
  logger: Logger;
  /** Largest body taken, in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** How long an update may wait for Redis before the answer is 503 (ms, default 5000). */
  acceptTimeoutMs?: number;
}

export interface WebhookServer {
  app: FastifyInstance;
  /** Starts listening; resolves with the port. */
  listen(): Promise<number>;
  /** Stops accepting (readiness turns false at once), waits for requests under way, closes the listener. */
  close(): Promise<void>;
}

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const SECRET_HEADER = "x-telegram-bot-api-secret-token";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether `given` is the secret, in time that does not depend on where they differ (or on their lengths). */
export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(given), digest(secret));
}

class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function createWebhookServer(opts: WebhookServerOptions): WebhookServer {
  const path = new URL(opts.url).pathname;
  const acceptTimeoutMs = opts.acceptTimeoutMs ?? 5000;
  const { logger } = opts;
  let stopping = false;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? WEBHOOK_BODY_LIMIT,
    // A client that sends its request slowly does not hold a connection for long.
    requestTimeout: 30_000,
    return503OnClosing: true,
  });

  // Telegram posts JSON; anything else is 415.
  app.removeContentTypeParser("text/plain");

  // Logged at most once a minute each, with how many since: a flood must not flood the log.
  const lastLogged = new Map<string, { at: number; count: number }>();
  function logSometimes(kind: string, obj: Record<string, unknown>, msg: string) {
    const now = Date.now();
    const seen = lastLogged.get(kind);
    if (seen && now - seen.at < 60_000) {
      seen.count++;
      return;
    }
    logger.warn({ ...obj, ...(seen?.count ? { since_last: seen.count } : {}) }, msg);
    lastLogged.set(kind, { at: now, count: 0 });
  }

  // A hook of the route itself, not a global one comparing paths: whatever spelling of the path the
  // router matches (`/telegram/%68ook` is `/telegram/hook`), the secret is checked.
  const checkSecret = async (request: FastifyRequest, reply: FastifyReply) => {
    if (secretMatches(request.headers[SECRET_HEADER], opts.secret)) return;
    logSometimes(
      "secret",
      { ip: request.ip },
      "refused a webhook request without the right secret token",
    );
    // The body is never read: the connection is closed after the answer instead of drained.
    return reply.code(401).header("connection", "close").send({ ok: false, error: "unauthorized" });
  };

  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) reply.header("connection", "close");
    if (status >= 500) {
      logger.error({ err: (error as Error).message }, "the webhook failed to take an update");
    } else {
      logSometimes(
        `status-${status}`,
        { ip: request.ip, status, err: (error as Error).message },
        "refused a webhook request",
      );
    }
    return reply.code(status).send({ ok: false, error: (error as Error).message });
  });

  app.post(path, { onRequest: checkSecret }, async (request, reply) => {
    const body = request.body as { update_id?: unknown } | null;
    if (
      typeof body !== "object" ||
      body === null ||
      Array.isArray(body) ||
      typeof body.update_id !== "number" ||
      !Number.isSafeInteger(body.update_id) ||
      body.update_id < 0
    )
      throw new Refusal(400, "not a Telegram update: expected an object with a whole update_id");
    const updateId = body.update_id;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        opts.accept(updateId, JSON.stringify(body), body),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("Redis did not answer in time")),
            acceptTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      logSometimes(
        "store",
        { update_id: updateId, err: (err as Error).message },
        "could not queue an update: answering 503, Telegram delivers it again later",
      );
      return reply
        .code(503)
        .header("retry-after", "5")
        .send({ ok: false, error: "the update could not be stored yet" });
    } finally {
      clearTimeout(timer);
    }
    return reply.code(200).send();
  });

  healthRoutes(app, {
    status: opts.status,
    storeReachable: opts.storeReachable,
    stopping: () => stopping,
  });

  return {
    app,
    async listen() {
      await app.listen({ host: opts.host, port: opts.port });
      const address = app.server.address();
      return typeof address === "object" && address ? address.port : opts.port;
    },
    async close() {
      stopping = true;
      await app.close();
    },
  };
}

/**
 * `GET /healthz`: 200 while the process runs. `GET /readyz`: 200
 * `{"ready":true,"mode":…,"role":…}` while Redis answers and the process is
 * not stopping, otherwise 503 with `ready: false` and why. The role is what
 * this process does now beside the others: polling `leader` or `standby`,
 * webhook `consumer` (with the partitions it handles).
 */
export function healthRoutes(
  app: FastifyInstance,
  opts: {
    status(): Record<string, unknown>;
    storeReachable(): Promise<boolean>;
    stopping(): boolean;
  },
): void {
  app.get("/healthz", async () => ({ alive: true }));
  app.get("/readyz", async (_request, reply) => {
    if (opts.stopping())
      return reply.code(503).send({ ready: false, ...opts.status(), reason: "stopping" });
    const reachable = await opts.storeReachable().catch(() => false);
    if (!reachable)
      return reply.code(503).send({ ready: false, ...opts.status(), reason: "Redis unreachable" });
    return { ready: true, ...opts.status() };
  });
}

export interface HealthServer {
  /** Starts listening; resolves with the port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** `/healthz` and `/readyz` on a listener of their own (polling mode, `HEALTH_PORT`). */
export function createHealthServer(opts: {
  host: string;
  port: number;
  status(): Record<string, unknown>;
  storeReachable(): Promise<boolean>;
}): HealthServer {
  let stopping = false;
  const app = Fastify({ logger: false, return503OnClosing: true });
  healthRoutes(app, { ...opts, stopping: () => stopping });
  return {
    async listen() {
      await app.listen({ host: opts.host, port: opts.port });
      const address = app.server.address();
      return typeof address === "object" && address ? address.port : opts.port;
    },
    async close() {
      stopping = true;
      await app.close();
    },
  };
}
