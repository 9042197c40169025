import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

async function start(dataDir: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    COORDINATOR_DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  delete env.COORDINATION_API_KEYS;
  delete env.COORDINATION_ADMIN_KEYS;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) break;
    } catch {
      /* starting */
    }
    if (Date.now() > until) throw new Error(`no /health 200 within 30 s: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => out };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill(signal);
  });
}

/** `npm start` in local mode: embedded PGlite, a dev key, clean shutdown, data that survives a restart. */
describe("npm start (local mode, PGlite)", () => {
  let dataDir: string;
  const port = 18000 + Math.floor(Math.random() * 700);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-start-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves /health within 30 s, prints the URL, data location and a dev key, and is never open without it", async () => {
    const { child, output } = await start(dataDir, port);
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
    expect(await stop(child, "SIGTERM")).toBe(0);
  });

  it("restarts on the same data directory with the same key and the data it had (closed cleanly on SIGINT)", async () => {
    const key = (await readFile(join(dataDir, "dev-key"), "utf8")).trim();
    const { child } = await start(dataDir, port);
    const status = await (
      await fetch(`http://127.0.0.1:${port}/status`, {
        headers: { Authorization: `Bearer ${key}`, "X-Agent-Id": "laptop-agent" },
      })
    ).json();
    expect(status.agents).toBeGreaterThanOrEqual(1);
    expect(await stop(child, "SIGINT")).toBe(0);
  });
});
