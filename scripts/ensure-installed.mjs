#!/usr/bin/env node
// Runs before `npm start` and `npm test`, so that either works as the first command typed on a
// fresh clone: when node_modules is missing, or was installed from another package-lock.json than
// the one here, it installs exactly what the lock file says (`npm ci`), then lets the command go on.
// It needs nothing but Node itself. Its output goes to stderr, so `npm start`'s stdout stays the
// rehearsal's transcript.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = join(root, "package-lock.json");
const modules = join(root, "node_modules");
// Written after an install from this lock: the lock's SHA-256.
const marker = join(modules, ".warden-installed-from");
// Written by npm itself on every install.
const npmRecord = join(modules, ".package-lock.json");

const lockHash = createHash("sha256").update(readFileSync(lock)).digest("hex");

function installedFromThisLock() {
  if (existsSync(marker)) return readFileSync(marker, "utf8").trim() === lockHash;
  // Installed by hand or by CI's `npm ci`, not by this script: npm's own record, newer than the lock, says it is current.
  return existsSync(npmRecord) && statSync(npmRecord).mtimeMs >= statSync(lock).mtimeMs;
}

if (!installedFromThisLock()) {
  console.error(
    existsSync(modules)
      ? "warden: package-lock.json changed since the last install: installing exactly what it says (npm ci)…"
      : "warden: first run on this checkout: installing the dependencies package-lock.json lists (npm ci)…",
  );
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const done = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (done.status !== 0) {
    console.error("warden: npm ci failed (see above); fix that, then run the command again");
    process.exit(done.status ?? 1);
  }
}
writeFileSync(marker, `${lockHash}\n`);
