import { Cluster, type ClusterOptions, Redis as IORedis, type RedisOptions } from "ioredis";

/**
 * What Warden's code talks to: one server (or the embedded default), or a
 * Redis Cluster. Both take the same commands; what differs is where a key
 * lives. On a cluster every key of a script, MULTI or pipeline must sit in one
 * hash slot (a case's keys share the `{case}` tag; see src/store/slots.ts),
 * SCAN must visit every master (src/store/scan.ts) and WAIT goes to the master
 * that took the writes (src/store/replicas.ts).
 */
export type Redis = IORedis | Cluster;

/** `single`: one server (REDIS_URL names it); `cluster`: a Redis Cluster (REDIS_URL lists seed nodes). */
export type RedisMode = "single" | "cluster";

/** Whether a client is a cluster client, as a type guard. */
export function isCluster(redis: Redis): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/** What a Redis connection is backed by: a real server, or the in-process default of rehearsals. */
export interface RedisConnection {
  redis: Redis;
  mode: RedisMode;
  /** False for the embedded in-process default: its contents vanish with the process. */
  durable: boolean;
  /** Where it points, with any password removed: safe to print. */
  description: string;
  /**
   * Settles, with the reason, if the server later refuses this connection for
   * good (on a reconnect: a database it no longer has, a password it no longer
   * takes); the client is then closed. Never settles for the embedded default.
   */
  refused: Promise<RedisConnectError>;
  close(): Promise<void>;
}

export interface RedisLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConnectRedisOptions {
  /**
   * `redis://` or `rediss://` URL, with user and password if needed; with mode
   * `cluster`, seed nodes separated by commas. Absent: the embedded default.
   */
  url?: string;
  /** Default `single`. */
  mode?: RedisMode;
  logger?: RedisLogger;
  /** Extra ioredis options (e.g. a retry strategy); `connectRedis` still waits until the server is ready. */
  options?: RedisOptions;
  /**
   * Which embedded instance to use when there is no URL. Connections with the
   * same name share data (as connections to one server do); tests use fresh names.
   */
  embeddedName?: string;
  /** How long to wait for the first connection before giving up with an error (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Whether losing an established connection is logged (once per loss, and its
   * recovery). The CLI's short commands turn it off: their error says it.
   */
  logConnectionLoss?: boolean;
}

/** How long `connectRedis` waits for a server by default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * Redis cannot be used as configured: not there, a database it does not have,
 * a password it refuses, a certificate that does not verify. The message is
 * one line, names the problem and what to do, and never holds a password.
 */
export class RedisConnectError extends Error {
  override name = "RedisConnectError";
}

/** Removes user, password and any query from a Redis URL so it can be logged or shown. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "(unparseable Redis URL)";
  }
}

/**
 * The database a Redis URL names: 0 when it names none, undefined when what
 * follows the host is not a database number. (ioredis would read "/3abc" as 3
 * and "/abc" as NaN, which the server refuses and ioredis then ignores.)
 */
export function redisDatabaseOf(url: string): number | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  if (path === "" || path === "/") return 0;
  const match = /^\/(\d{1,9})$/.exec(path);
  return match ? Number(match[1]) : undefined;
}

interface Target {
  description: string;
  db: number;
  /** The ACL user Warden connects as ("default" when the URL names none). */
  user: string;
  hasPassword: boolean;
}

function targetOf(url: string): Target {
  const description = describeRedisUrl(url);
  const db = redisDatabaseOf(url);
  if (db === undefined) {
    throw new RedisConnectError(
      `REDIS_URL is not redis://[user:password@]host:port[/db] with db a number, such as redis://127.0.0.1:6379/0 (${description})`,
    );
  }
  const parsed = new URL(url);
  return {
    description,
    db,
    user: parsed.username ? decodeURIComponent(parsed.username) : "default",
    hasPassword: parsed.password !== "",
  };
}

/**
 * The connection factory. With a URL it connects ioredis to that server;
 * without one it starts the embedded in-process default (ioredis-mock), which is
 * fine for a rehearsal but keeps nothing: callers that hold evidence must check
 * `durable` and refuse to run on it.
 *
 * With a URL it resolves only once the server has accepted the password and
 * selected the database, and rejects with a one-line `RedisConnectError`
 * otherwise: at once when the server refuses (a password, a database, a TLS
 * certificate), at the timeout when there is no server. ioredis itself would
 * go on with database 0 when SELECT fails and retry a refused password
 * forever. Should the server refuse the same later, on a reconnect, the
 * connection is closed for good (one error line is logged) rather than used.
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
      mode: "single",
      durable: false,
      description: "embedded in-process Redis (ioredis-mock, not durable)",
      refused: new Promise<RedisConnectError>(() => undefined),
      close: async () => {
        redis.disconnect();
      },
    };
  }
  if (opts.mode === "cluster") return connectCluster(opts.url, opts);
  const target = targetOf(opts.url);
  const { description } = target;
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const redis = new IORedis(opts.url, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: false,
    ...opts.options,
  });
  const watch = watchConnection(redis, target, opts.logger, opts.logConnectionLoss ?? true);
  if (redis.status === "wait") redis.connect().catch(() => undefined); // lazyConnect: connect now
  await watch.ready(timeoutMs);
  if (await isClusterNode(redis)) {
    redis.disconnect();
    throw new RedisConnectError(
      `Redis at ${description} is a node of a Redis Cluster, which holds only some of the keys, so nothing was written: set REDIS_MODE=cluster and list the cluster's nodes in REDIS_URL`,
    );
  }
  return {
    redis,
    mode: "single",
    durable: true,
    description,
    refused: watch.refused,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Whether a server runs in cluster mode; false when it will not say (an ACL without INFO). */
async function isClusterNode(redis: IORedis): Promise<boolean> {
  try {
    return /cluster_enabled:1/.test(await redis.info("cluster"));
  } catch {
    return false;
  }
}

/** The seed nodes of a cluster's REDIS_URL: URLs separated by commas. */
export function clusterSeeds(url: string): string[] {
  return url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * How the cluster client rides out a failover: a command that meets a moved
 * slot (MOVED, ASK) follows it; one that meets CLUSTERDOWN or TRYAGAIN, or a
 * master that went away, is tried again after a pause while the replica takes
 * over, rather than failing at once. Reads go to masters (`scaleReads`), so
 * Warden never reads what a replica has not yet received.
 */
export const CLUSTER_OPTIONS: ClusterOptions = {
  scaleReads: "master",
  maxRedirections: 32,
  retryDelayOnMoved: 0,
  retryDelayOnFailover: 300,
  retryDelayOnClusterDown: 300,
  retryDelayOnTryAgain: 300,
  slotsRefreshTimeout: 2000,
  // Reconnect for ever, as the single-server client does; a bot waits for its Redis to come back.
  clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
  enableAutoPipelining: false,
};

/**
 * Connects ioredis's Cluster client to the seed nodes of `url` (one is enough
 * to find the rest) and waits until the cluster answers, like the
 * single-server path: a refused password or an unreachable cluster stops with
 * one line. A cluster has only database 0, so a seed naming another is refused
 * before anything is sent.
 */
async function connectCluster(url: string, opts: ConnectRedisOptions): Promise<RedisConnection> {
  const seeds = clusterSeeds(url);
  const targets = seeds.map(targetOf);
  const first = targets[0];
  if (!first)
    throw new RedisConnectError(
      "REDIS_URL names no seed node: with REDIS_MODE=cluster list them separated by commas, such as redis://10.0.0.1:7000,redis://10.0.0.2:7000",
    );
  const badDb = targets.find((t) => t.db !== 0);
  if (badDb)
    throw new RedisConnectError(
      `REDIS_URL names database ${badDb.db} at ${badDb.description}, but a Redis Cluster has only database 0: remove /${badDb.db}`,
    );
  const description = `cluster ${targets.map((t) => t.description.replace(/\/$/, "")).join(",")}`;
  const target: Target = { ...first, description };
  const parsed = new URL(seeds[0] as string);
  const redis = new Cluster(
    seeds.map((s) => {
      const u = new URL(s);
      return { host: u.hostname, port: Number(u.port || 6379) };
    }),
    {
      ...CLUSTER_OPTIONS,
      redisOptions: {
        maxRetriesPerRequest: 3,
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
        ...opts.options,
      },
      lazyConnect: true,
    },
  );
  const watch = watchConnection(redis, target, opts.logger, opts.logConnectionLoss ?? true);
  // A node's refusal (a password) arrives as "node error"; the cluster's own "error" says little.
  redis.on("node error", (err: Error) => redis.emit("error", err));
  redis.connect().catch(() => undefined);
  await watch.ready(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  return {
    redis,
    mode: "cluster",
    durable: true,
    description,
    refused: watch.refused,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Listens to a client's errors from its creation on. Before the first ready
 * they are quiet: a refusal ends the wait at once, anything else is kept for
 * the timeout's message. After it, a refusal closes the client for good and a
 * lost connection is logged once until it is back.
 */
function watchConnection(
  redis: Redis,
  target: Target,
  logger: RedisLogger | undefined,
  logLoss: boolean,
): { ready(timeoutMs: number): Promise<void>; refused: Promise<RedisConnectError> } {
  let established = false;
  let refusedLater: (err: RedisConnectError) => void = () => undefined;
  const refusedPromise = new Promise<RedisConnectError>((resolve) => {
    refusedLater = resolve;
  });
  let refused: RedisConnectError | undefined;
  let lastError: Error | undefined;
  let lost = false;
  let onRefused: ((err: RedisConnectError) => void) | undefined;

  redis.on("error", (err: Error) => {
    if (isPassing(err)) {
      // The server is busy or full for now: try again on a fresh connection, as a
      // SELECT that failed this way would leave this one in database 0. (A cluster
      // client selects nothing and rides out a failover by itself.)
      lastError = err;
      if (!isCluster(redis)) redis.disconnect(true);
      return;
    }
    const reason = refusal(err, target);
    if (reason !== undefined) {
      if (refused) return;
      refused = new RedisConnectError(reason);
      // Closed before anything else is sent: ioredis would carry on in database 0, or retry.
      redis.disconnect();
      if (established) {
        logger?.error({ redis: target.description }, reason);
        refusedLater(refused);
      }
      onRefused?.(refused);
      return;
    }
    lastError = err;
    if (!established || lost) return;
    lost = true;
    if (logLoss) {
      logger?.error(
        { redis: target.description, code: (err as NodeJS.ErrnoException).code },
        "lost the connection to Redis; reconnecting",
      );
    }
  });
  redis.on("ready", () => {
    if (!lost) return;
    lost = false;
    if (logLoss) logger?.warn({ redis: target.description }, "connected to Redis again");
  });

  return {
    refused: refusedPromise,
    ready: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        let done = false;
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          redis.off("ready", onReady);
          onRefused = undefined;
          if (err) {
            redis.disconnect();
            reject(err);
          } else {
            established = true;
            resolve();
          }
        };
        const timer = setTimeout(
          () => finish(new RedisConnectError(unreachable(target, timeoutMs, lastError))),
          timeoutMs,
        );
        onRefused = finish;
        // A refused SELECT or AUTH is answered before the ready check, so by the time a
        // PING sent after "ready" is answered, any refusal has been seen.
        const onReady = () => {
          redis.ping().then(
            () => finish(refused),
            () => undefined, // the connection went again: wait for the next ready
          );
        };
        if (refused) finish(refused);
        else redis.on("ready", onReady);
      }),
  };
}

/**
 * A refusal that says "not now" rather than "never": loading, a script
 * running, the client limit reached, a failover under way.
 */
function isPassing(err: Error): boolean {
  return (
    err.name === "ReplyError" &&
    /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b|max number of clients/i.test(err.message)
  );
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed by the server",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
};

function unreachable(target: Target, timeoutMs: number, last: Error | undefined): string {
  const code = (last as NodeJS.ErrnoException | undefined)?.code;
  const cause = last ? (NETWORK_CAUSES[code ?? ""] ?? firstLine(last.message)) : "no answer";
  // A plain server never answers a TLS handshake; a TLS server hangs up on plain text.
  const tls = target.description.startsWith("rediss:");
  const hint =
    tls && (cause === "no answer" || cause === "connection reset")
      ? " (redis:// if the server does not speak TLS)"
      : !tls && cause === "connection reset"
        ? " (rediss:// if the server speaks TLS)"
        : "";
  return `could not reach Redis at ${target.description} within ${timeoutMs / 1000} s (${cause}): check REDIS_URL${hint} and that the server runs and accepts connections from here (REDIS_CONNECT_TIMEOUT sets how many seconds to wait)`;
}

/**
 * Why the server's answer means this connection can never work as
 * configured, or undefined for errors worth retrying (network trouble).
 * ioredis emits a server's error reply only for what it sends on connecting
 * (AUTH, SELECT, the INFO of its ready check), so every other reply error
 * here is a refusal.
 */
function refusal(err: Error, target: Target): string | undefined {
  const at = `Redis at ${target.description}`;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (err.name === "ReplyError") {
    const said = firstLine(err.message);
    const command = (err as { command?: { name?: string } }).command?.name?.toUpperCase();
    if (/^WRONGPASS|invalid password/i.test(said)) {
      return `${at} refused the password of user "${target.user}" (${said}): check the user and password in REDIS_URL, and that the user is enabled in the server's ACL`;
    }
    if (/^NOAUTH/.test(said)) {
      return target.hasPassword
        ? `${at} wants the password again (${said}): check the user and password in REDIS_URL`
        : `${at} requires a password and REDIS_URL gives none: write redis://:PASSWORD@host:port/db, or redis://USER:PASSWORD@host:port/db for an ACL user`;
    }
    if (/DB index is out of range/i.test(said)) {
      return `${at} has no database ${target.db} (${said}), so nothing was written: use a database the server has in REDIS_URL (0 to 15 unless its "databases" setting says otherwise)`;
    }
    if (/not allowed in cluster mode/i.test(said)) {
      return `${at} is a Redis Cluster node, which has only database 0 (${said}), so nothing was written: remove /${target.db} from REDIS_URL`;
    }
    if (/^NOPERM/.test(said)) {
      const what = command ? ` ${command}` : "";
      return `${at} does not let user "${target.user}" run${what} (${said}), so nothing was written: grant it in the server's ACL, or use another user in REDIS_URL`;
    }
    if (command === "SELECT") {
      return `${at} would not select database ${target.db} (${said}), so nothing was written: check the database in REDIS_URL`;
    }
    return `${at} refused the connection (${said}): check REDIS_URL and the server's configuration`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return `${at} presented a TLS certificate that was not accepted (${firstLine(err.message)}): give the server a certificate for this host name from a trusted authority, or set NODE_EXTRA_CA_CERTS to the file of the authority that signed it`;
  }
  if (code.startsWith("ERR_SSL_") || code === "EPROTO" || code.startsWith("ERR_TLS_")) {
    return `could not set up TLS with Redis at ${target.description} (${firstLine(err.message)}): if the server does not speak TLS, write redis:// instead of rediss:// in REDIS_URL`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").trim().replace(/[.:]$/, "");
}
