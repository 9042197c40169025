import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomPort, startServer } from "../test/process.ts";

// Starting spawns a process that opens PGlite and applies the migrations: seconds on a quiet machine, a minute or
// more on a loaded one. Readiness is waited for (GET /health); the ceilings only stop a hung process.
const TEST_TIMEOUT_MS = 600_000;

function start(dataDir: string, port: number) {
  return startServer({
    PORT: String(port),
    COORDINATOR_DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    DATABASE_URL: undefined,
    COORDINATION_API_KEYS: undefined,
    COORDINATION_ADMIN_KEYS: undefined,
  });
}

/** `npm start` in local mode: embedded PGlite, a dev key, clean shutdown, data that survives a restart. */
describe("npm start (local mode, PGlite)", () => {
  let dataDir: string;
  const port = randomPort();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-start-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "serves /health, prints the URL, data location and a dev key, and is never open without it",
    async () => {
      const server = await start(dataDir, port);
      const { output } = server;
      const key = (await readFile(join(dataDir, "dev-key"), "utf8")).trim();
      expect((await stat(join(dataDir, "dev-key"))).mode & 0o077).toBe(0);
      expect(output()).toContain(`http://127.0.0.1:${port}`);
      expect(output()).toContain(dataDir);
      expect(output()).toContain(key);

      expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(401);
      const me = await fetch(`http://127.0.0.1:${port}/me`, {
        headers: { Authorization: `Bearer ${key}`, "X-Agent-Id": "laptop-agent" },
      });
      expect(await me.json()).toMatchObject({ agent_id: "laptop-agent", scope: "admin" });
      expect(await server.stop("SIGTERM")).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "restarts on the same data directory with the same key and the data it had (closed cleanly on SIGINT)",
    async () => {
      const key = (await readFile(join(dataDir, "dev-key"), "utf8")).trim();
      const server = await start(dataDir, port);
      const status = await (
        await fetch(`http://127.0.0.1:${port}/status`, {
          headers: { Authorization: `Bearer ${key}`, "X-Agent-Id": "laptop-agent" },
        })
      ).json();
      expect(status.agents).toBeGreaterThanOrEqual(1);
      expect(await server.stop("SIGINT")).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
