/**
 * The `warden` CLI with REDIS_MODE=cluster: a case set up, listed and its
 * log verified through the real executable, on the shared test cluster.
 */
import { describe, expect, it } from "vitest";
import { runWarden } from "../helpers/cli.ts";
import { clusterUrl, freshCaseId } from "../helpers/cluster.ts";

describe("warden on a Redis Cluster", { timeout: 120_000 }, () => {
  it("creates a case, seizes a chat, lists them and verifies the log", async () => {
    const env = { REDIS_MODE: "cluster", REDIS_URL: clusterUrl() };
    const id = freshCaseId("cli");
    const chat = String(-1_005_000_000_000 - process.pid);
    const steps = [
      [
        "case",
        "create",
        id,
        "--title",
        "T",
        "--authority",
        "A",
        "--purpose",
        "P",
        "--retention-days",
        "30",
      ],
      ["chat", "add", id, chat, "--alias", "fw1"],
      ["operator", "add", id, "5550001", "--role", "operator", "--name", "Duty"],
    ];
    for (const args of steps) {
      const result = await runWarden(args, env);
      expect(result.code, result.stderr).toBe(0);
    }
    const list = await runWarden(["case", "list"], env);
    expect(list.stdout).toContain(id);
    const chats = await runWarden(["chat", "list", id], env);
    expect(chats.stdout).toContain("fw1");
    // A second case may not seize the same chat: the claim in the global index holds on a cluster.
    const other = freshCaseId("cli2");
    await runWarden(
      [
        "case",
        "create",
        other,
        "--title",
        "T",
        "--authority",
        "A",
        "--purpose",
        "P",
        "--retention-days",
        "30",
      ],
      env,
    );
    const refused = await runWarden(["chat", "add", other, chat, "--alias", "fw1"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cannot be seized/);
    const verify = await runWarden(["audit", "verify", "--case", id], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
