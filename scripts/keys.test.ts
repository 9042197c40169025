import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, NODE_DEFAULTS } from "../functions-src/config.ts";
import { openDatabase } from "./host/open-db.ts";
import { testApp } from "../test/helpers.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The keys script end to end: create a database key, use it, revoke it. */
describe("npm run keys (database keys)", () => {
  let dataDir: string;
  const env = () => ({ ...process.env, DATABASE_URL: "", COORDINATOR_DATA_DIR: dataDir });
  const keys = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "scripts/keys.ts", ...args], { cwd: ROOT, env: env() });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-keys-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("creates a bound agent key that authenticates, is refused as another agent, and stops working once revoked", async () => {
    const { stdout } = await keys("create", "--agent", "keyed-agent", "--trust", "3");
    const key = stdout.trim();
    expect(key).toMatch(/^ac_[A-Za-z0-9_-]{43}$/);

    const opened = await openDatabase(loadConfig(env(), NODE_DEFAULTS).database);
    try {
      const [stored] = await opened.db.query<{ key_hash: string; trust_level: number }>(
        "select key_hash, trust_level from coord.api_keys",
      );
      expect(stored!.key_hash).not.toContain(key);
      expect(stored!.trust_level).toBe(3);

      const { app } = testApp(opened.db, { config: { apiKeys: [] } });
      const me = await app.request("/me", { headers: { Authorization: `Bearer ${key}` } });
      expect(await me.json()).toMatchObject({ agent_id: "keyed-agent", scope: "agent", trust_level: 3 });
      const other = await app.request("/me", { headers: { Authorization: `Bearer ${key}`, "X-Agent-Id": "impostor" } });
      expect(other.status).toBe(403);
    } finally {
      await opened.db.close();
    }

    await keys("revoke", key.slice(0, 10));
    const reopened = await openDatabase(loadConfig(env(), NODE_DEFAULTS).database);
    try {
      const { app } = testApp(reopened.db, { config: { apiKeys: [] } });
      const res = await app.request("/me", { headers: { Authorization: `Bearer ${key}` } });
      expect(res.status).toBe(401);
    } finally {
      await reopened.db.close();
    }
  });

  it("refuses to open a data directory another process is using, instead of corrupting it", async () => {
    const opened = await openDatabase(loadConfig(env(), NODE_DEFAULTS).database);
    try {
      await expect(keys("list")).rejects.toMatchObject({
        stderr: expect.stringMatching(/in use by process \d+ \(npm start\?\)/),
      });
    } finally {
      await opened.db.close();
    }
    // Closed cleanly: the lock is gone and the next process gets in.
    await expect(keys("list")).resolves.toBeTruthy();
  });

  it("refuses bad arguments with a message and a non-zero exit", async () => {
    await expect(keys("create", "--agent", "bad id")).rejects.toMatchObject({
      stderr: expect.stringMatching(/--agent ID is required/),
    });
    await expect(keys("create", "--agent", "a", "--trust", "9")).rejects.toMatchObject({
      stderr: expect.stringMatching(/--trust must be/),
    });
    await expect(keys("revoke", "nope")).rejects.toMatchObject({ stderr: expect.stringMatching(/no active key/) });
  });
});
