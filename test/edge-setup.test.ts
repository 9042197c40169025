/**
 * The README's lines for running the edge entry locally, run as written (through npm, as a person would) on a fresh
 * database: `npm run migrate`, `npm run keys -- create --agent cloud-1`, `npm run edge`. Needs DATABASE_URL: the edge
 * host has no embedded database.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, freshPostgres, stopProcessGroup } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// The npm that ships with this node, else the one on the PATH.
const NPM = existsSync(join(dirname(process.execPath), "npm")) ? join(dirname(process.execPath), "npm") : "npm";
const run = promisify(execFile);

describe.runIf(!!DATABASE_URL)("the README's edge set-up, as written, on a fresh database", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let edge: ChildProcess | undefined;
  let stderr = "";
  const port = 19000 + Math.floor(Math.random() * 900);
  const env = () => {
    const e: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: pg.url,
      PORT: String(port),
      NO_COLOR: "1",
    };
    // Only what the README sets: no keys from the environment, so the key must come from `npm run keys`.
    delete e.COORDINATION_API_KEYS;
    delete e.COORDINATION_ADMIN_KEYS;
    return e;
  };

  beforeAll(async () => {
    pg = await freshPostgres({ migrate: false });
  }, 60_000);

  afterAll(async () => {
    // npm → node (the deno shim) → deno task → deno run: the whole group.
    await stopProcessGroup(edge);
    await pg?.drop();
  });

  it("migrate, make a key, serve: the key works on the edge entry", async () => {
    const migrated = await run(NPM, ["run", "migrate"], { cwd: ROOT, env: env() });
    expect(migrated.stderr).toMatch(/applied 0001_foundation\.sql/);

    const created = await run(NPM, ["run", "keys", "--", "create", "--agent", "cloud-1"], { cwd: ROOT, env: env() });
    // npm prints its own banner on stdout first; the key is the line of its own.
    const key = created.stdout
      .split("\n")
      .find((l) => /^ac_[A-Za-z0-9_-]{43}$/.test(l.trim()))
      ?.trim();
    expect(key, created.stdout).toBeDefined();

    edge = spawn(NPM, ["run", "edge"], { cwd: ROOT, env: env(), stdio: ["ignore", "ignore", "pipe"], detached: true });
    edge.stderr!.on("data", (d) => (stderr += d));
    const url = `http://127.0.0.1:${port}`;
    const until = Date.now() + 110_000;
    for (;;) {
      if (edge.exitCode !== null) throw new Error(`npm run edge exited ${edge.exitCode}: ${stderr}`);
      if (
        await fetch(`${url}/health`).then(
          (r) => r.status === 200,
          () => false,
        )
      )
        break;
      if (Date.now() > until) throw new Error(`npm run edge did not become healthy: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const me = await fetch(`${url}/me`, { headers: { Authorization: `Bearer ${key}` } });
    expect(await me.json()).toMatchObject({ agent_id: "cloud-1", scope: "agent" });
    expect((await fetch(`${url}/me`)).status).toBe(401);
  }, 180_000);
});
