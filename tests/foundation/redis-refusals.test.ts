import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import {
  ADMIN_PASSWORD,
  createCase,
  expectRefused,
  keyCounts,
  liveEnv,
  type OwnServer,
  SLOW,
  USER_PASSWORD,
  WRONG_PASSWORD,
} from "../helpers/redis-trust.ts";
import { freePort, startRedisServer } from "../setup/redis-server.ts";

/**
 * A Redis that Warden cannot use as asked — a database the server does not
 * have, a password it refuses, a server that is not there, a certificate that
 * does not verify — stops every command, and `warden start`, at once with one
 * line and exit 2, and nothing is written anywhere else instead.
 */

describe("a Redis database the server does not have", { timeout: SLOW }, () => {
  let server: OwnServer;
  beforeAll(async () => {
    // The suite's server has 4096 databases; this one has Redis's default 16.
    server = await startRedisServer(["--databases", "16"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("stops every command with one line and exit 2, and writes nothing to database 0", async () => {
    const url = `redis://127.0.0.1:${server.port}/20`;
    for (const args of [createCase, ["case", "list"]]) {
      const line = expectRefused(
        await runWarden(args, { REDIS_URL: url }),
        /^warden: Redis at redis:\/\/127\.0\.0\.1:\d+\/20 has no database 20 .*REDIS_URL/,
      );
      expect(line).toContain("nothing was written");
    }
    expect(await keyCounts(server.port)).toBe("# Keyspace");
  });

  it("keeps `warden start`, live or rehearsal, from starting", async () => {
    const url = `redis://127.0.0.1:${server.port}/20`;
    expectRefused(await runWarden(["start"], await liveEnv(url)), /has no database 20/);
    const rehearsal = await runWarden(["start"], { REDIS_URL: url, LOG_LEVEL: "info" });
    expectRefused(rehearsal, /has no database 20/);
    expect(await keyCounts(server.port)).toBe("# Keyspace");
  });

  it("refuses a database that is not a number before connecting", async () => {
    // ioredis would read /3abc as database 3 (config.test.ts has the other shapes).
    const result = await runWarden(["case", "list"], {
      REDIS_URL: `redis://:${WRONG_PASSWORD}@127.0.0.1:${server.port}/3abc`,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "warden: configuration is not valid:\n  REDIS_URL: the database after the host must be a number, as in redis://host:6379/0 (set (value hidden))\n",
    );
    expect(await keyCounts(server.port)).toBe("# Keyspace");
  });
});

describe("a password Redis refuses", { timeout: SLOW }, () => {
  let server: OwnServer;
  beforeAll(async () => {
    server = await startRedisServer(["--requirepass", ADMIN_PASSWORD]);
    const admin = new Redis({ port: server.port, host: "127.0.0.1", password: ADMIN_PASSWORD });
    await admin.call("ACL", "SETUSER", "warden", "on", `>${USER_PASSWORD}`, "~*", "&*", "+@all");
    await admin.call("ACL", "SETUSER", "asleep", "off", `>${USER_PASSWORD}`, "~*", "+@all");
    await admin.call(
      "ACL",
      "SETUSER",
      "noselect",
      "on",
      `>${USER_PASSWORD}`,
      "~*",
      "+@all",
      "-select",
    );
    admin.disconnect();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const at = (auth: string, db = 0) => `redis://${auth}127.0.0.1:${server.port}/${db}`;

  it("says a password is needed when REDIS_URL gives none", async () => {
    expectRefused(
      await runWarden(createCase, { REDIS_URL: at("") }),
      /^warden: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 requires a password and REDIS_URL gives none: /,
    );
    expect(await keyCounts(server.port, ADMIN_PASSWORD)).toBe("# Keyspace");
  });

  it("says the password was refused, for the default user and for ACL users", {
    timeout: 120_000,
  }, async () => {
    const cases = [
      [`:${WRONG_PASSWORD}@`, "default", createCase],
      [`default:${WRONG_PASSWORD}@`, "default", ["case", "list"]],
      [`warden:${WRONG_PASSWORD}@`, "warden", createCase],
      [`ghost:${USER_PASSWORD}@`, "ghost", ["case", "list"]],
      [`asleep:${USER_PASSWORD}@`, "asleep", createCase],
    ] as const;
    for (const [auth, user, args] of cases) {
      expectRefused(
        await runWarden([...args], { REDIS_URL: at(auth) }),
        new RegExp(
          `^warden: Redis at redis://127\\.0\\.0\\.1:\\d+/0 refused the password of user "${user}"`,
        ),
      );
    }
    expect(await keyCounts(server.port, ADMIN_PASSWORD)).toBe("# Keyspace");
  });

  it("says when the ACL user may not select its database", async () => {
    expectRefused(
      await runWarden(createCase, { REDIS_URL: at(`noselect:${USER_PASSWORD}@`, 3) }),
      /^warden: Redis at redis:\/\/127\.0\.0\.1:\d+\/3 .*user "noselect".*SELECT/,
    );
    expect(await keyCounts(server.port, ADMIN_PASSWORD)).toBe("# Keyspace");
  });

  it("keeps `warden start` from starting on a refused password", async () => {
    expectRefused(
      await runWarden(["start"], await liveEnv(at(`warden:${WRONG_PASSWORD}@`))),
      /refused the password of user "warden"/,
    );
    expectRefused(
      await runWarden(["start"], await liveEnv(at(""))),
      /requires a password and REDIS_URL gives none/,
    );
    expect(await keyCounts(server.port, ADMIN_PASSWORD)).toBe("# Keyspace");
  });

  it("works with the right password, as the default user and as an ACL user", async () => {
    expect(
      await runWarden(createCase, { REDIS_URL: at(`warden:${USER_PASSWORD}@`, 2) }),
    ).toMatchObject({ code: 0, stdout: "created case op-x\n", stderr: "" });
    expect(
      await runWarden(["case", "list"], { REDIS_URL: at(`:${ADMIN_PASSWORD}@`, 2) }),
    ).toMatchObject({ code: 0, stderr: "" });
    expect(await keyCounts(server.port, ADMIN_PASSWORD)).toMatch(/^# Keyspace\r?\ndb2:keys=\d+/);
  });
});

describe("a Redis that is not there", { timeout: SLOW }, () => {
  it("gives one line at the connect timeout, exit 2, no log lines", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    expectRefused(
      await runWarden(createCase, { REDIS_URL: url, LOG_LEVEL: "info" }),
      /^warden: could not reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0 within 5 s \(connection refused\): .*REDIS_CONNECT_TIMEOUT/,
    );
    expectRefused(
      await runWarden(["start"], { ...(await liveEnv(url)), REDIS_CONNECT_TIMEOUT: "0.5" }),
      /^warden: could not reach Redis at .* within 0\.5 s \(connection refused\)/,
    );
  });
});

describe("TLS", { timeout: SLOW }, () => {
  let dir: string;
  let server: OwnServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "warden-tls-"));
    // Self-signed for 127.0.0.1: refused as it is, accepted once it is trusted.
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "ignore" },
    );
    const port = await freePort();
    server = await startRedisServer(
      [
        ...["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"],
        ...["--tls-cert-file", join(dir, "cert.pem"), "--tls-key-file", join(dir, "key.pem")],
      ],
      port,
    );
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops at a certificate that does not verify, with one line, and works once it is trusted", async () => {
    const url = `rediss://:${WRONG_PASSWORD}@127.0.0.1:${server.port}/0`;
    expectRefused(
      await runWarden(["case", "list"], { REDIS_URL: url }),
      /^warden: Redis at rediss:\/\/127\.0\.0\.1:\d+\/0 presented a TLS certificate that was not accepted \(self-signed certificate\): .*NODE_EXTRA_CA_CERTS/,
    );
    const trusted = await runWarden(["case", "list"], {
      REDIS_URL: `rediss://127.0.0.1:${server.port}/0`,
      NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
    });
    expect(trusted).toMatchObject({ code: 0, stderr: "" });
  });

  it("says which scheme to try when client and server disagree about TLS", async () => {
    expectRefused(
      await runWarden(["case", "list"], {
        REDIS_URL: `redis://127.0.0.1:${server.port}/0`,
        REDIS_CONNECT_TIMEOUT: "0.5",
      }),
      /^warden: could not reach Redis at redis:\/\/.* within 0\.5 s \(connection reset\): check REDIS_URL \(rediss:\/\/ if the server speaks TLS\)/,
    );
    const plain = new URL(await freshRedisUrl());
    expectRefused(
      await runWarden(["case", "list"], {
        REDIS_URL: `rediss://${plain.host}${plain.pathname}`,
        REDIS_CONNECT_TIMEOUT: "0.5",
      }),
      /^warden: could not reach Redis at rediss:\/\/.* within 0\.5 s \(no answer\): check REDIS_URL \(redis:\/\/ if the server does not speak TLS\)/,
    );
  });
});
