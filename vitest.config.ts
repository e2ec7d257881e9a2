import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/setup/redis-server.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests share one redis-server; each uses its own key prefix or database, so files may run in parallel.
    pool: "forks",
  },
});
