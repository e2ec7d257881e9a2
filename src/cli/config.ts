import { z } from "zod";
import { clusterSeeds, DEFAULT_CONNECT_TIMEOUT_MS, redisDatabaseOf } from "../store/redis.ts";
import type { ReplicaWaitOptions } from "../store/replicas.ts";

/**
 * Warden's configuration, parsed once from the environment at start-up and
 * passed to whatever needs it. A bad or missing variable stops start-up with one
 * line per problem; secrets are never echoed back, only the shape expected.
 */

const TELEGRAM_API_ROOT = "https://api.telegram.org";

const REDIS_SHAPE = "redis://[user:password@]host:port[/db] or rediss://…";

/** What is wrong with a REDIS_URL, or undefined. */
function redisUrlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `expected ${REDIS_SHAPE}`;
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") return `expected ${REDIS_SHAPE}`;
  if (u.search !== "") {
    return `expected ${REDIS_SHAPE}, without ?parameters (user and password go before the host)`;
  }
  if (redisDatabaseOf(v) === undefined) {
    return "the database after the host must be a number, as in redis://host:6379/0";
  }
  return undefined;
}

/** Each URL of REDIS_URL (one, or a cluster's seed nodes separated by commas) checked alone. */
const redisUrl = z.string().superRefine((v, ctx) => {
  const seeds = clusterSeeds(v);
  const problem =
    seeds.length === 0 ? `expected ${REDIS_SHAPE}` : seeds.map(redisUrlProblem).find(Boolean);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** What is wrong with a well-formed REDIS_URL in this REDIS_MODE, or undefined. */
function redisModeProblem(v: string, mode: "single" | "cluster"): string | undefined {
  const seeds = clusterSeeds(v);
  if (mode === "single")
    return seeds.length > 1
      ? "lists several servers: set REDIS_MODE=cluster for a Redis Cluster, or give one URL"
      : undefined;
  if (seeds.some((seed) => redisDatabaseOf(seed) !== 0))
    return "a Redis Cluster has only database 0: remove the /database from each seed node";
  return undefined;
}

const httpUrl = (what: string) =>
  z.string().refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, `expected ${what}`);

const schema = z
  .object({
    BOT_TOKEN: z
      .string()
      .regex(
        /^\d{1,20}:[A-Za-z0-9_-]{30,}$/,
        "expected a bot token like 123456789:AA… from @BotFather",
      )
      .optional(),
    REDIS_URL: redisUrl.optional(),
    REDIS_MODE: z.enum(["single", "cluster"], "expected single or cluster").default("single"),
    REDIS_WAIT_REPLICAS: z.coerce
      .number("expected a whole number of replicas, such as 1")
      .int("expected a whole number of replicas, such as 1")
      .min(0, "expected 0 (off) or more replicas")
      .max(16, "expected at most 16 replicas")
      .default(0),
    REDIS_WAIT_TIMEOUT: z.coerce
      .number("expected a number of seconds, such as 1")
      .positive("expected a number of seconds, such as 1")
      .max(60, "expected at most 60 seconds")
      .default(1),
    REDIS_CONNECT_TIMEOUT: z.coerce
      .number("expected a number of seconds, such as 5")
      .positive("expected a number of seconds, such as 5")
      .max(600, "expected at most 600 seconds")
      .default(DEFAULT_CONNECT_TIMEOUT_MS / 1000),
    TELEGRAM_API_ROOT: httpUrl("an http(s) URL such as https://api.telegram.org").default(
      TELEGRAM_API_ROOT,
    ),
    BOT_MODE: z.enum(["polling", "webhook"], "expected polling or webhook").default("polling"),
    WEBHOOK_URL: httpUrl("the public https URL Telegram should POST updates to").optional(),
    WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, "expected 1-256 characters of A-Z, a-z, 0-9, _ or -")
      .optional(),
    WEBHOOK_HOST: z
      .string()
      .min(1, "expected a host name or address to listen on")
      .default("0.0.0.0"),
    WEBHOOK_PORT: z.coerce.number("expected a TCP port").int().min(1).max(65535).default(8443),
    HEALTH_HOST: z
      .string()
      .min(1, "expected a host name or address to listen on")
      .default("0.0.0.0"),
    HEALTH_PORT: z.coerce.number("expected a TCP port").int().min(1).max(65535).optional(),
    SHUTDOWN_TIMEOUT: z.coerce
      .number("expected a number of seconds, such as 10")
      .positive("expected a number of seconds, such as 10")
      .max(600, "expected at most 600 seconds")
      .default(10),
    LOG_LEVEL: z
      .enum(
        ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
        "expected fatal, error, warn, info, debug, trace or silent",
      )
      .default("info"),
    WARDEN_AUDIT_KEY: z.string().min(1, "expected the path of the audit signing key").optional(),
    WARDEN_DATA_DIR: z.string().min(1).default("var"),
  })
  .superRefine((env, ctx) => {
    const urlProblem =
      env.REDIS_URL === undefined ? undefined : redisModeProblem(env.REDIS_URL, env.REDIS_MODE);
    if (urlProblem) ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: urlProblem });
    if (env.REDIS_MODE === "cluster" && env.REDIS_URL === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["REDIS_URL"],
        message:
          "required when REDIS_MODE=cluster: the cluster's seed nodes separated by commas, such as redis://10.0.0.1:7000,redis://10.0.0.2:7000",
      });
    if (env.BOT_MODE === "webhook") {
      if (!env.WEBHOOK_URL)
        ctx.addIssue({
          code: "custom",
          path: ["WEBHOOK_URL"],
          message: "required when BOT_MODE=webhook",
        });
      if (!env.WEBHOOK_SECRET)
        ctx.addIssue({
          code: "custom",
          path: ["WEBHOOK_SECRET"],
          message: "required when BOT_MODE=webhook",
        });
    }
  });

export type Config = z.infer<typeof schema> & {
  /** A live run talks to real Telegram with a real token; anything else is a rehearsal. */
  live: boolean;
};

/** Variables whose values must never be printed. */
export const SECRET_VARIABLES = ["BOT_TOKEN", "REDIS_URL", "WEBHOOK_SECRET"] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Parses the environment; throws `ConfigError` with one line per bad or missing variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in a .env file mean "not set", as most tools treat them.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const given = cleaned[name];
      const shown =
        given === undefined
          ? "missing"
          : (SECRET_VARIABLES as readonly string[]).includes(name)
            ? "set (value hidden)"
            : `got ${JSON.stringify(given.length > 60 ? `${given.slice(0, 60)}…` : given)}`;
      return `${name}: ${issue.message} (${shown})`;
    });
    throw new ConfigError(problems);
  }
  return { ...parsed.data, live: parsed.data.BOT_TOKEN !== undefined };
}

/** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT, as src/store/replicas.ts takes them. */
export function replicaWaitOf(
  config: Pick<Config, "REDIS_WAIT_REPLICAS" | "REDIS_WAIT_TIMEOUT">,
): ReplicaWaitOptions {
  return { replicas: config.REDIS_WAIT_REPLICAS, timeoutMs: config.REDIS_WAIT_TIMEOUT * 1000 };
}

/** The values a log line must never contain, with the shapes derived from them (URL-encoded forms). */
export function secretsOf(
  config: Pick<Config, "BOT_TOKEN" | "REDIS_URL" | "WEBHOOK_SECRET">,
): string[] {
  const secrets: string[] = [];
  if (config.BOT_TOKEN) secrets.push(config.BOT_TOKEN);
  if (config.WEBHOOK_SECRET) secrets.push(config.WEBHOOK_SECRET);
  // Every seed node of a cluster's list may carry the password.
  for (const url of clusterSeeds(config.REDIS_URL ?? "")) {
    try {
      const u = new URL(url);
      if (u.password) secrets.push(u.password, decodeURIComponent(u.password));
    } catch {
      // Unparseable URLs are rejected by the schema before this is called.
    }
  }
  return [...new Set(secrets.filter((s) => s.length >= 4))];
}
