import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, secretsOf } from "../../src/cli/config.ts";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

describe("configuration", () => {
  it("defaults to a rehearsal against Telegram's API root with polling", () => {
    const config = loadConfig({});
    expect(config.live).toBe(false);
    expect(config.TELEGRAM_API_ROOT).toBe("https://api.telegram.org");
    expect(config.BOT_MODE).toBe("polling");
    expect(config.LOG_LEVEL).toBe("info");
  });

  it("is live when a bot token is set and accepts redis:// and rediss:// with user and password", () => {
    const config = loadConfig({
      BOT_TOKEN: TOKEN,
      REDIS_URL: "rediss://warden:s3cret@redis.example:6380/2",
    });
    expect(config.live).toBe(true);
    expect(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }).REDIS_URL).toBe(
      "redis://127.0.0.1:6379",
    );
  });

  it("reports one line per bad variable, naming it and the shape expected, never a secret value", () => {
    const problems = problemsOf({
      BOT_TOKEN: "not-a-token-but-secret-material",
      REDIS_URL: "http://user:hunter22@host",
      BOT_MODE: "carrier-pigeon",
      LOG_LEVEL: "loud",
      TELEGRAM_API_ROOT: "ftp://x",
    });
    expect(problems).toHaveLength(5);
    const text = problems.join("\n");
    for (const name of ["BOT_TOKEN", "REDIS_URL", "BOT_MODE", "LOG_LEVEL", "TELEGRAM_API_ROOT"]) {
      expect(problems.filter((p) => p.startsWith(`${name}:`))).toHaveLength(1);
    }
    expect(text).not.toContain("not-a-token-but-secret-material");
    expect(text).not.toContain("hunter22");
    expect(text).toContain("value hidden");
    expect(text).toContain('"carrier-pigeon"');
  });

  it("requires the webhook URL and secret in webhook mode", () => {
    const problems = problemsOf({ BOT_MODE: "webhook" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["WEBHOOK_SECRET", "WEBHOOK_URL"]);
  });

  it("reads where the webhook listens and how long a stop may take, with defaults", () => {
    const defaults = loadConfig({});
    expect([defaults.WEBHOOK_HOST, defaults.WEBHOOK_PORT, defaults.SHUTDOWN_TIMEOUT]).toEqual([
      "0.0.0.0",
      8443,
      10,
    ]);
    const set = loadConfig({
      WEBHOOK_HOST: "127.0.0.1",
      WEBHOOK_PORT: "9000",
      SHUTDOWN_TIMEOUT: "2.5",
    });
    expect([set.WEBHOOK_HOST, set.WEBHOOK_PORT, set.SHUTDOWN_TIMEOUT]).toEqual([
      "127.0.0.1",
      9000,
      2.5,
    ]);
    for (const bad of ["0", "-1", "ten", "601"])
      expect(problemsOf({ SHUTDOWN_TIMEOUT: bad })[0]).toMatch(/^SHUTDOWN_TIMEOUT: /);
    expect(problemsOf({ WEBHOOK_PORT: "70000" })[0]).toMatch(/^WEBHOOK_PORT: /);
  });

  it("refuses a REDIS_URL whose database is not a number, or with ?parameters, never showing it", () => {
    for (const url of [
      "redis://:hunter22@host:6379/abc",
      "redis://:hunter22@host:6379/3abc",
      "redis://:hunter22@host:6379/-1",
      "redis://:hunter22@host:6379/1/2",
      "rediss://:hunter22@host:6379/0?password=x",
      "redis://host:6379?db=20",
    ]) {
      const problems = problemsOf({ REDIS_URL: url });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^REDIS_URL: .*\(set \(value hidden\)\)$/);
      expect(problems[0]).not.toContain("hunter22");
    }
    expect(problemsOf({ REDIS_URL: "redis://host:6379/abc" })[0]).toContain(
      "the database after the host must be a number",
    );
    for (const url of ["redis://host", "redis://host:6379/", "redis://u:p@host:6379/15"]) {
      expect(loadConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
    }
  });

  it("waits 5 s for Redis unless REDIS_CONNECT_TIMEOUT says otherwise, in seconds", () => {
    expect(loadConfig({}).REDIS_CONNECT_TIMEOUT).toBe(5);
    expect(loadConfig({ REDIS_CONNECT_TIMEOUT: "0.5" }).REDIS_CONNECT_TIMEOUT).toBe(0.5);
    for (const bad of ["soon", "0", "-3", "601"]) {
      const problems = problemsOf({ REDIS_CONNECT_TIMEOUT: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^REDIS_CONNECT_TIMEOUT: expected .*seconds/);
    }
  });

  it("treats empty variables as unset, as a .env file copied from .env.example has them", () => {
    expect(loadConfig({ BOT_TOKEN: "", REDIS_URL: "", WEBHOOK_URL: "" }).live).toBe(false);
    expect(loadConfig({ HEALTH_PORT: "" }).HEALTH_PORT).toBeUndefined();
  });

  it("takes HEALTH_PORT as a TCP port, and refuses anything else", () => {
    expect(loadConfig({ HEALTH_PORT: "9090" }).HEALTH_PORT).toBe(9090);
    expect(problemsOf({ HEALTH_PORT: "ninety" })[0]).toMatch(/^HEALTH_PORT: expected a TCP port/);
  });

  it("lists the secrets to scrub, including the Redis password", () => {
    const secrets = secretsOf({
      BOT_TOKEN: TOKEN,
      REDIS_URL: "redis://warden:p%40ss-word@host:6379",
      WEBHOOK_SECRET: "hook-secret-123",
    });
    expect(secrets).toEqual(
      expect.arrayContaining([TOKEN, "hook-secret-123", "p%40ss-word", "p@ss-word"]),
    );
  });
});
