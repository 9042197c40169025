import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "functions-src/**/*.test.ts",
      "client/**/*.test.ts",
      "mcp-bridge/**/*.test.ts",
      "scripts/**/*.test.ts",
      "supabase/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    globalSetup: ["test/global-setup.ts"],
    // Two cores: two test files at a time. Each file gets its own database, so files never interfere.
    pool: "forks",
    maxWorkers: 2,
    // Generous: CI runs while the machine is busy (two cores, other processes). A test that hangs still fails;
    // no test measures time against these.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
