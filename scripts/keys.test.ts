import { execFile, spawn } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
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
        // This process holds it without announcing a server (server.json), so there is nobody to ask either.
        await expect(keys("list")).rejects.toMatchObject({
          stderr: expect.stringMatching(/in use by process \d+, which is not a server this script can talk to/),
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
    },
    TEST_TIMEOUT_MS,
  );
});

/**
 * While `npm start` holds the PGlite data directory, `npm run keys` goes through its admin API: each local agent gets
 * its own bound key without stopping the server.
 */
describe("npm run keys against a running npm start (PGlite)", () => {
  let dataDir: string;
  const port = 18700 + Math.floor(Math.random() * 250);
  const base = `http://127.0.0.1:${port}`;
  const env = () => {
    const e: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: "",
      COORDINATOR_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: "warn",
    };
    delete e.COORDINATION_API_KEYS;
    delete e.COORDINATION_ADMIN_KEYS;
    return e;
  };
  const keys = (...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "scripts/keys.ts", ...args], { cwd: ROOT, env: env() });
  let server: ReturnType<typeof spawn>;
  let output = "";

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-keys-live-"));
    server = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.on("data", (d) => (output += d));
    server.stderr!.on("data", (d) => (output += d));
    const until = Date.now() + 150_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`npm start exited ${server.exitCode}: ${output}`);
      const announced = await access(join(dataDir, "server.json")).then(
        () => true,
        () => false,
      );
      if (
        announced &&
        (await fetch(`${base}/health`).then(
          (r) => r.status === 200,
          () => false,
        ))
      )
        break;
      if (Date.now() > until) throw new Error(`npm start not ready within 150 s: ${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "announces itself next to the lock",
    async () => {
      const announced = JSON.parse(await readFile(join(dataDir, "server.json"), "utf8"));
      expect(announced).toEqual({ url: base, pid: server.pid });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "creates a bound key through the server, which works at once; lists and revokes it there",
    async () => {
      const created = await keys("create", "--agent", "live-agent", "--trust", "1", "--label", "agent on this laptop");
      const key = created.stdout.trim();
      expect(key).toMatch(/^ac_[A-Za-z0-9_-]{43}$/);
      expect(created.stderr).toContain(`the server at ${base}`);

      const me = await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${key}` } });
      expect(await me.json()).toMatchObject({ agent_id: "live-agent", scope: "agent", trust_level: 1 });

      const listed = JSON.parse((await keys("list")).stdout);
      expect(listed).toEqual([
        expect.objectContaining({ agent_id: "live-agent", key_prefix: key.slice(0, 10), revoked: false }),
      ]);
      expect(JSON.stringify(listed)).not.toContain(key);

      await keys("revoke", key.slice(0, 10));
      expect((await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(401);
      await expect(keys("revoke", key.slice(0, 10))).rejects.toMatchObject({
        stderr: expect.stringMatching(/no active key has id or prefix/),
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the dev key stays the operator's key while agent keys exist, across a restart",
    async () => {
      const devKey = (await readFile(join(dataDir, "dev-key"), "utf8")).trim();
      await keys("create", "--agent", "second-agent");
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
      await expect(access(join(dataDir, "server.json"))).rejects.toThrow();
      // Stopped: the script opens the database itself.
      const offline = JSON.parse((await keys("list")).stdout);
      expect(offline.map((k: { agent_id: string }) => k.agent_id)).toContain("second-agent");

      server = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
        cwd: ROOT,
        env: env(),
        stdio: "ignore",
      });
      const until = Date.now() + 150_000;
      while (
        !(await access(join(dataDir, "server.json")).then(
          () => true,
          () => false,
        ))
      ) {
        if (Date.now() > until) throw new Error("npm start did not come back within 150 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      const me = await fetch(`${base}/me`, {
        headers: { Authorization: `Bearer ${devKey}`, "X-Agent-Id": "operator" },
      });
      expect(await me.json()).toMatchObject({ scope: "admin" });
      await expect(keys("create", "--agent", "third-agent")).resolves.toBeTruthy();
    },
    TEST_TIMEOUT_MS,
  );
});
