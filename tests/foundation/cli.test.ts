import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runWarden, runWardenIn } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

async function dump(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const keys = (await redis.keys("*")).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === "hash"
          ? await redis.hgetall(key)
          : type === "set"
            ? (await redis.smembers(key)).sort()
            : type === "stream"
              ? await redis.xrange(key, "-", "+")
              : type;
      parts.push(`${key}=${JSON.stringify(value)}`);
    }
    return parts.join("\n");
  } finally {
    redis.disconnect();
  }
}

const bin = fileURLToPath(new URL("../../bin/warden.js", import.meta.url));

const createOpFw = [
  "case",
  "create",
  "op-fw",
  "--title",
  "Vuurwerkgroepen",
  "--authority",
  "OM-2026-0142",
  "--purpose",
  "stop trade",
  "--retention-days",
  "180",
];

// Each test starts several CLI processes one after another (about 1 s each on a
// quiet machine, 6–7 s on a loaded one), so the file's tests get more than the
// default 30 s.
describe("warden CLI against a real redis-server", { timeout: 120_000 }, () => {
  it("does not report a change done while Redis's replicas do not hold it (REDIS_WAIT_REPLICAS)", async () => {
    // A single server has no replica: WAIT 1 answers 0 once its time limit has passed.
    const env = {
      REDIS_URL: await freshRedisUrl(),
      REDIS_WAIT_REPLICAS: "1",
      REDIS_WAIT_TIMEOUT: "0.2",
    };
    const created = await runWarden(createOpFw, env);
    expect(created.code).toBe(1);
    expect(created.stdout).not.toContain("created case");
    expect(created.stderr.trim().split("\n")).toHaveLength(1);
    expect(created.stderr).toMatch(
      /only 0 of 1 replicas .* a change is not reported done, though the master has it\): bring the master's replica back, or lower REDIS_WAIT_REPLICAS/,
    );
    // Without the wait, the same server reports it.
    const { REDIS_WAIT_REPLICAS: _w, REDIS_WAIT_TIMEOUT: _t, ...plain } = env;
    expect((await runWarden(["case", "show", "op-fw"], plain)).code).toBe(0);
  });

  it("creates a case, an operator and a seized chat, shows them, and refuses a duplicate", async () => {
    const env = { REDIS_URL: await freshRedisUrl() };
    expect(await runWarden(createOpFw, env)).toMatchObject({
      code: 0,
      stdout: "created case op-fw\n",
    });
    expect(
      (
        await runWarden(
          ["operator", "add", "op-fw", "5550001", "--role", "operator", "--name", "Duty officer 1"],
          env,
        )
      ).code,
    ).toBe(0);
    expect(
      (await runWarden(["chat", "add", "op-fw", "-1001234567890", "--alias", "fw1"], env)).code,
    ).toBe(0);

    const shown = await runWarden(["case", "show", "op-fw"], env);
    expect(shown.code).toBe(0);
    for (const text of [
      "Vuurwerkgroepen",
      "OM-2026-0142",
      "stop trade",
      "180 days",
      "5550001",
      "operator",
      "Duty officer 1",
      "fw1",
      "-1001234567890",
    ]) {
      expect(shown.stdout).toContain(text);
    }
    const json = JSON.parse((await runWarden(["case", "show", "op-fw", "--json"], env)).stdout);
    expect(json).toMatchObject({
      id: "op-fw",
      status: "open",
      roles: [{ userId: 5550001 }],
      chats: [{ alias: "fw1" }],
    });

    const before = await dump(env.REDIS_URL);
    const again = await runWarden(createOpFw, env);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(again.stderr).toContain('case "op-fw" already exists');
    expect(await dump(env.REDIS_URL)).toBe(before);
  });

  it("answers bad input with one line on stderr and exit code 2, changing nothing", async () => {
    const env = { REDIS_URL: await freshRedisUrl() };
    await runWarden(createOpFw, env);
    await runWarden(["chat", "add", "op-fw", "-100123", "--alias", "fw1"], env);
    const before = await dump(env.REDIS_URL);
    const cases: Array<[string[], RegExp]> = [
      [
        ["operator", "add", "nope", "1", "--role", "operator", "--name", "x"],
        /unknown case "nope"/,
      ],
      [
        ["operator", "add", "op-fw", "12ab", "--role", "operator", "--name", "x"],
        /not a Telegram user id/,
      ],
      [["chat", "add", "op-fw", "-100456", "--alias", "fw1"], /alias "fw1" is already used/],
      [
        [
          ...createOpFw.slice(0, 3).map((a) => (a === "op-fw" ? "op-2" : a)),
          "--title",
          "t",
          "--authority",
          "a",
          "--purpose",
          "p",
          "--retention-days",
          "-3",
        ],
        /not a positive whole number/,
      ],
      [
        [
          ...createOpFw.slice(0, 3),
          "--title",
          "t",
          "--authority",
          "a",
          "--purpose",
          "p",
          "--retention-days",
          "1.5",
        ],
        /not a positive whole number/,
      ],
      [["case", "show", "missing"], /unknown case/],
      [
        ["operator", "add", "op-fw", "1", "--role", "boss", "--name", "x"],
        /Allowed choices are operator, supervisor, auditor/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runWarden(args, env);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(message);
    }
    expect(await dump(env.REDIS_URL)).toBe(before);
  });

  it("refuses mutations on the embedded default, because nothing there is durable", async () => {
    const result = await runWarden(createOpFw);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("set REDIS_URL");
  });

  it("has --help on every command", async () => {
    for (const args of [
      [],
      ["case"],
      ["case", "create"],
      ["operator", "add"],
      ["chat", "add"],
      ["control-room", "set"],
      ["start"],
    ]) {
      const result = await runWarden([...args, "--help"]);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout, args.join(" ")).toContain("Usage: warden");
    }
  });

  it("reports a bad environment with one line per variable and exit code 2", async () => {
    const result = await runWarden(["case", "list"], { REDIS_URL: "mysql://x", BOT_MODE: "fax" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/REDIS_URL: expected redis:\/\//);
    expect(result.stderr).toMatch(/BOT_MODE: expected polling or webhook/);
  });

  it("refuses a live run on the embedded default", async () => {
    const result = await runWarden(["start"], {
      BOT_TOKEN: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs REDIS_URL");
    expect(result.stderr + result.stdout).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1");
  });
});

describe("the settings file and pipes", () => {
  it("reads .env from the working directory, says so, and lets the environment win", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-dotenv-"));
    const url = await freshRedisUrl();
    writeFileSync(join(dir, ".env"), `REDIS_URL=${url}\nLOG_LEVEL=warn\n`);
    const created = await runWardenIn(dir, [
      "case",
      "create",
      "op-env",
      "--title",
      "t",
      "--authority",
      "a",
      "--purpose",
      "p",
      "--retention-days",
      "30",
    ]);
    expect(created.stderr).toBe(`warden: settings from ${join(dir, ".env")}\n`);
    expect(created.code).toBe(0);
    const listed = await runWardenIn(dir, ["case", "list"]);
    expect(listed.stdout).toContain("op-env");
    // A variable given for one command overrides the file: the embedded store has no cases.
    const embedded = await runWardenIn(dir, ["case", "list"], { REDIS_URL: "" });
    expect(embedded.stdout).not.toContain("op-env");
  });

  it("ends quietly when the reader of its output stops", async () => {
    // The reading end is closed before the CLI writes its first line: its write meets EPIPE.
    const child = spawn(process.execPath, [bin, "case", "list"], {
      env: { PATH: process.env.PATH ?? "", WARDEN_ENV_FILE: "none", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });
});

describe("closing a case on a terminal", () => {
  function closeOnTerminal(url: string, answer: string): string {
    const command = `node '${bin}' case close op-ask`;
    return spawnSync("script", ["-qfec", command, "/dev/null"], {
      input: `${answer}\n`,
      env: {
        PATH: process.env.PATH ?? "",
        WARDEN_ENV_FILE: "none",
        LOG_LEVEL: "warn",
        REDIS_URL: url,
      },
      encoding: "utf8",
    }).stdout;
  }

  it("asks first, says what closing does, and closes only on yes", async () => {
    const url = await freshRedisUrl();
    const create = await runWarden(
      [
        "case",
        "create",
        "op-ask",
        "--title",
        "t",
        "--authority",
        "a",
        "--purpose",
        "p",
        "--retention-days",
        "30",
      ],
      { REDIS_URL: url },
    );
    expect(create.code).toBe(0);
    const no = closeOnTerminal(url, "n");
    expect(no).toContain("Close case op-ask (t) for good? Nothing will act in it any more");
    expect(no).toContain("case op-ask was not closed");
    expect((await runWarden(["case", "show", "op-ask"], { REDIS_URL: url })).stdout).toContain(
      "(open)",
    );
    const yes = closeOnTerminal(url, "y");
    expect(yes).toContain(
      "closed case op-ask: 0 scenario run(s) aborted, 0 pending approval(s) expired",
    );
    expect((await runWarden(["case", "show", "op-ask"], { REDIS_URL: url })).stdout).toContain(
      "(closed)",
    );
  });
});
