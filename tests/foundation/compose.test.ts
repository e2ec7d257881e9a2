import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/cli/config.ts";

/** No Docker engine runs here, so the deployment file is checked as data. */
describe("docker-compose.yml", () => {
  const compose = parse(
    readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8"),
  ) as {
    services: Record<string, Record<string, unknown>>;
    volumes: Record<string, unknown>;
  };

  it("runs Redis with every write fsynced to an AOF on a named volume, with a password and a healthcheck", () => {
    const redis = compose.services.redis as {
      image: string;
      command: string[];
      volumes: string[];
      healthcheck: { test: string[] };
    };
    expect(redis.image).toMatch(/^redis:/);
    const command = redis.command.join(" ");
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync always/);
    expect(command).toMatch(/--requirepass \S+/);
    const [volume] = redis.volumes[0]?.split(":") ?? [];
    expect(Object.keys(compose.volumes)).toContain(volume);
    expect(redis.healthcheck.test.join(" ")).toMatch(/ping/);
  });

  it("starts Warden only once Redis is healthy, with its settings from .env", () => {
    const warden = compose.services.warden as {
      build?: unknown;
      image?: string;
      env_file: string | string[];
      depends_on: Record<string, { condition: string }>;
    };
    expect(warden.build ?? warden.image).toBeDefined();
    expect([warden.env_file].flat()).toContain(".env");
    expect(warden.depends_on.redis?.condition).toBe("service_healthy");
  });

  it("gives Warden longer to stop than its default SHUTDOWN_TIMEOUT before SIGKILL", () => {
    const warden = compose.services.warden as { stop_grace_period?: string };
    const grace = /^(\d+)s$/.exec(warden.stop_grace_period ?? "");
    expect(Number(grace?.[1])).toBeGreaterThan(loadConfig({}).SHUTDOWN_TIMEOUT);
  });
});
