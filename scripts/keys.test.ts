import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, NODE_DEFAULTS } from "../functions-src/config.ts";
import { openDatabase } from "./host/open-db.ts";
import { agentHeaders, testApp } from "../test/helpers.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));

// Each call starts a process that opens PGlite and checks the migrations: seconds on a quiet machine, many more on a
// loaded one. Nothing here measures time; the ceilings only stop a hung process.
const CALL_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 900_000;

/** The keys script end to end: create a database key, use it, revoke it. */
describe("npm run keys (database keys)", () => {
  let dataDir: string;
  const env = () => ({ ...process.env, DATABASE_URL: "", COORDINATOR_DATA_DIR: dataDir });
  const keys = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "scripts/keys.ts", ...args], {
      cwd: ROOT,
      env: env(),
      timeout: CALL_TIMEOUT_MS,
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-keys-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "creates a bound agent key that authenticates, is refused as another agent, and stops working once revoked",
    async () => {
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
        const other = await app.request("/me", {
          headers: { Authorization: `Bearer ${key}`, "X-Agent-Id": "impostor" },
        });
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
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses to open a data directory another process is using, instead of corrupting it",
    async () => {
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
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "creates a key with an expiry; past it the key is refused (401 key_expired) and its id no longer reserved",
    async () => {
      const { stdout, stderr } = await keys("create", "--agent", "expiring-agent", "--expires", "30d");
      const key = stdout.trim();
      const expiresAt = /expires (\S+)\./.exec(stderr)?.[1];
      expect(Date.parse(expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      const opened = await openDatabase(loadConfig(env(), NODE_DEFAULTS).database);
      try {
        const { app } = testApp(opened.db);
        const me = await app.request("/me", { headers: { Authorization: `Bearer ${key}` } });
        expect(await me.json()).toMatchObject({ agent_id: "expiring-agent" });
        // The shared test key may not act as an id a database key reserves…
        const borrowed = await app.request("/me", { headers: agentHeaders("expiring-agent") });
        expect(borrowed.status).toBe(403);
        expect(((await borrowed.json()) as any).error.code).toBe("agent_id_reserved");

        await opened.db.query(
          "update coord.api_keys set expires_at = now() - interval '1 second' where agent_id = $1",
          ["expiring-agent"],
        );
        const expired = await app.request("/me", { headers: { Authorization: `Bearer ${key}` } });
        expect(expired.status).toBe(401);
        expect(((await expired.json()) as any).error).toMatchObject({ code: "key_expired" });
        // …but once the key has expired the id is free again (a fresh app: no cached admission).
        const fresh = testApp(opened.db).app;
        expect((await fresh.request("/me", { headers: agentHeaders("expiring-agent") })).status).toBe(200);
      } finally {
        await opened.db.close();
      }
      const listed = JSON.parse((await keys("list")).stdout) as Array<{ agent_id: string; expired: boolean }>;
      expect(listed.find((k) => k.agent_id === "expiring-agent")).toMatchObject({ expired: true });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses bad arguments with a message and a non-zero exit",
    async () => {
      await expect(keys("create", "--agent", "bad id")).rejects.toMatchObject({
        stderr: expect.stringMatching(/--agent ID is required/),
      });
      await expect(keys("create", "--agent", "a", "--trust", "9")).rejects.toMatchObject({
        stderr: expect.stringMatching(/--trust must be/),
      });
      await expect(keys("revoke", "nope")).rejects.toMatchObject({ stderr: expect.stringMatching(/no active key/) });
      await expect(keys("create", "--agent", "a", "--expires", "2001-01-01")).rejects.toMatchObject({
        stderr: expect.stringMatching(/--expires must be/),
      });
    },
    TEST_TIMEOUT_MS,
  );
});
