import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/cli/config.ts";

/** No Docker engine runs here, so the deployment file is checked as data. */
describe("docker-compose.yml", () => {
  // Merge keys (`<<: *cluster-node`) as Docker Compose reads them.
  const compose = parse(
    readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8"),
    { merge: true },
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

  it("keeps its two topologies apart: every service belongs to the single or the cluster profile", () => {
    for (const [name, service] of Object.entries(compose.services))
      expect([name, service.profiles]).toEqual([
        name,
        [name === "redis" || name === "warden" ? "single" : "cluster"],
      ]);
  });

  describe("profile cluster", () => {
    type Service = Record<string, unknown> & { command: string[] | string };
    const services = compose.services as Record<string, Service>;
    const nodes = Object.keys(services).filter((n) => n.startsWith("redis-node-"));

    it("has six Redis Cluster nodes with AOF fsynced on every write, a password and a volume each", () => {
      expect(nodes).toHaveLength(6);
      const volumes = new Set<string>();
      for (const name of nodes) {
        const node = services[name] as Service & { volumes: string[] };
        const command = (node.command as string[]).join(" ");
        expect(command).toMatch(/--cluster-enabled yes/);
        expect(command).toMatch(/--appendonly yes --appendfsync always/);
        expect(command).toMatch(
          /--requirepass \$\{REDIS_PASSWORD:\?.*\} --masterauth \$\{REDIS_PASSWORD\}/,
        );
        expect(command).toContain(`--cluster-announce-hostname ${name}`);
        const [volume] = node.volumes[0]?.split(":") ?? [];
        volumes.add(volume as string);
        expect(Object.keys(compose.volumes)).toContain(volume);
      }
      expect(volumes.size).toBe(6);
    });

    it("creates the cluster once, three masters with a replica each, after every node is healthy", () => {
      const init = services["redis-cluster-init"] as Service & {
        depends_on: Record<string, { condition: string }>;
        restart: string;
      };
      const script = [init.command].flat().join(" ");
      expect(script).toMatch(/redis-cli --cluster create .* --cluster-replicas 1 --cluster-yes/);
      for (const n of nodes) expect(init.depends_on[n]?.condition).toBe("service_healthy");
      expect(init.restart).toBe("no");
    });

    it("runs two Warden processes on the cluster, each a valid configuration that waits for a replica", () => {
      const wardens = Object.keys(services).filter((n) => n.startsWith("warden-"));
      expect(wardens).toHaveLength(2);
      for (const name of wardens) {
        const w = services[name] as Service & {
          environment: Record<string, string>;
          depends_on: Record<string, { condition: string }>;
        };
        expect(w.depends_on["redis-cluster-init"]?.condition).toBe(
          "service_completed_successfully",
        );
        const env = Object.fromEntries(
          Object.entries(w.environment).map(([k, v]) => [
            k,
            v.replace(/\$\{REDIS_PASSWORD\}/g, "pw-from-env"),
          ]),
        );
        const config = loadConfig(env);
        expect(config.REDIS_MODE).toBe("cluster");
        expect(config.REDIS_WAIT_REPLICAS).toBe(1);
        expect(env.REDIS_URL?.split(",").map((u) => new URL(u).hostname)).toEqual(nodes);
      }
    });
  });
});
