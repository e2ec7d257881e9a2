import { Redis as IORedis, type Redis, type RedisOptions } from "ioredis";

/** What a Redis connection is backed by: a real server, or the in-process default of rehearsals. */
export interface RedisConnection {
  redis: Redis;
  /** False for the embedded in-process default: its contents vanish with the process. */
  durable: boolean;
  /** Where it points, with any password removed: safe to print. */
  description: string;
  close(): Promise<void>;
}

export interface RedisLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConnectRedisOptions {
  /** `redis://` or `rediss://` URL, with user and password if needed. Absent: the embedded default. */
  url?: string;
  logger?: RedisLogger;
  /** Extra ioredis options (tests use `lazyConnect` or a short retry strategy). */
  options?: RedisOptions;
  /**
   * Which embedded instance to use when there is no URL. Connections with the
   * same name share data (as connections to one server do); tests use fresh names.
   */
  embeddedName?: string;
  /** How long to wait for the first connection before giving up with an error. */
  connectTimeoutMs?: number;
}

/** Removes user and password from a Redis URL so it can be logged or shown. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparseable Redis URL)";
  }
}

/**
 * The one connection factory. With a URL it connects ioredis to that server;
 * without one it starts the embedded in-process default (ioredis-mock), which is
 * fine for a rehearsal but keeps nothing: callers that hold evidence must check
 * `durable` and refuse to run on it.
 */
export async function connectRedis(opts: ConnectRedisOptions = {}): Promise<RedisConnection> {
  if (!opts.url) {
    const { default: RedisMock } = await import("ioredis-mock");
    // ioredis-mock shares data between instances with the same host and port.
    const redis = new RedisMock({
      host: `embedded-${opts.embeddedName ?? "warden"}`,
      port: 6379,
    }) as unknown as Redis;
    opts.logger?.warn(
      { redis: "embedded" },
      "using the embedded in-process Redis: nothing is durable, everything is lost when Warden stops; set REDIS_URL for real work",
    );
    return {
      redis,
      durable: false,
      description: "embedded in-process Redis (ioredis-mock, not durable)",
      close: async () => {
        redis.disconnect();
      },
    };
  }
  const description = describeRedisUrl(opts.url);
  const redis = new IORedis(opts.url, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: false,
    ...opts.options,
  });
  redis.on("error", (err: Error) => {
    // ioredis puts the connection string into some errors; log only the sanitised form.
    opts.logger?.error(
      { redis: description, code: (err as NodeJS.ErrnoException).code },
      "Redis connection error",
    );
  });
  if (!opts.options?.lazyConnect) {
    await waitUntilReady(redis, description, opts.connectTimeoutMs ?? 5000);
  }
  return {
    redis,
    durable: true,
    description,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** ioredis retries forever by default; at start-up an operator needs a clear failure instead. */
function waitUntilReady(redis: Redis, description: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      redis.disconnect();
      reject(
        new Error(
          `could not connect to Redis at ${description} within ${timeoutMs} ms: check REDIS_URL and that the server runs`,
        ),
      );
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
