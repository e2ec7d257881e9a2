#!/usr/bin/env node
// Runs before `npm test`: the tests need a real redis-server and Debian's chromium.
// Missing ones are installed with apt-get when we are root (as on CI and these
// machines); otherwise this stops with the exact command to run.
import { execFileSync, spawnSync } from "node:child_process";

const needed = [
  { bin: "redis-server", pkg: "redis-server" },
  { bin: "chromium", pkg: "chromium" },
];

function has(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

const missing = needed.filter((n) => !has(n.bin));
if (missing.length === 0) process.exit(0);

const pkgs = missing.map((m) => m.pkg);
const command = `apt-get update && apt-get install -y ${pkgs.join(" ")}`;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot || !has("apt-get") || process.env.WARDEN_NO_APT === "1") {
  console.error(
    `The tests need ${pkgs.join(" and ")}, which ${pkgs.length > 1 ? "are" : "is"} not installed.`,
  );
  console.error(`Install with:  sudo sh -c '${command}'`);
  process.exit(1);
}
console.error(`pretest: installing ${pkgs.join(", ")} (${command})`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], {
  stdio: "inherit",
  env,
});
for (const m of missing) {
  if (!has(m.bin)) {
    console.error(`pretest: ${m.bin} is still missing after installing ${m.pkg}`);
    process.exit(1);
  }
}
