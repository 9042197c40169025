/**
 * The edge entry (supabase/functions/coordinator/index.ts) booted under Deno — the runtime Supabase Edge
 * Functions use — against a real Postgres. Needs DATABASE_URL: the edge host has no embedded database.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { AGENT_KEY, DATABASE_URL, freshPostgres, resourceJson, stopProcessGroup } from "./helpers.ts";
import { SseReader } from "./sse.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// Installed by the root postinstall into tools/deno (see tools/deno/package.json for why not the root).
const DENO = createRequire(new URL("../tools/deno/package.json", import.meta.url)).resolve("deno/bin.cjs");

// The edge host only runs on Postgres (Supabase); without DATABASE_URL there is nothing for it to connect to.
describe.runIf(!!DATABASE_URL)("edge entry under Deno", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let child: ChildProcess;
  let url: string;
  let stderr = "";

  beforeAll(async () => {
    pg = await freshPostgres();
    const port = 19000 + Math.floor(Math.random() * 1000);
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [DENO, "task", "serve"], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: pg.url,
        PORT: String(port),
        COORDINATION_API_KEYS: AGENT_KEY,
        LOG_LEVEL: "warn",
        // A short stream limit, so the test sees a stream end and the client resume (the default is 120 s).
        COORDINATOR_STREAM_SECONDS: "3",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "ignore", "pipe"],
      // Its own process group: the npm shim starts `deno task`, which starts `deno run`; stopping the group stops all.
      detached: true,
    });
    child.stderr!.on("data", (d) => (stderr += d));
    const until = Date.now() + 290_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`deno exited ${child.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${url}/health`)).status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`deno did not become healthy: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 300_000);

  afterAll(async () => {
    await stopProcessGroup(child);
    await pg?.drop();
  });

  it("answers /health with the schema version, at the root and under /coordinator", async () => {
    for (const path of ["/health", "/coordinator/health"]) {
      const body = await (await fetch(`${url}${path}`)).json();
      expect(body).toMatchObject({
        status: "ok",
        database: { kind: "postgres", reachable: true, schema_version: expect.stringMatching(/^\d{4}_/) },
      });
    }
  });

  it("enforces keys", async () => {
    expect((await fetch(`${url}/status`)).status).toBe(401);
    expect(
      (await fetch(`${url}/status`, { headers: { Authorization: "Bearer nope-nope-nope-nope", "X-Agent-Id": "a" } }))
        .status,
    ).toBe(401);
    const ok = await fetch(`${url}/status`, {
      headers: { Authorization: `Bearer ${AGENT_KEY}`, "X-Agent-Id": "deno-agent" },
    });
    expect(ok.status).toBe(200);
  });

  it("completes MCP initialize and resources/read of coordinator://status", async () => {
    const client = new Client({ name: "edge-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/coordinator/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${AGENT_KEY}`, "X-Agent-Id": "deno-mcp" } },
      }),
    );
    expect(client.getServerVersion()?.name).toBe("agent-coordinator");
    const read = await client.readResource({ uri: "coordinator://status" });
    expect(resourceJson(read)).toMatchObject({ schema_version: expect.stringMatching(/^\d{4}_/) });
    await client.close();
  });

  it("serves the dashboard page, its script and its API under /coordinator", async () => {
    const page = await fetch(`${url}/coordinator/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script src="dashboard/app.js" defer></script>');
    const js = await fetch(`${url}/coordinator/dashboard/app.js`);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("api/overview");
    expect((await fetch(`${url}/coordinator/dashboard/api/session`)).status).toBe(401);
    const login = await fetch(`${url}/coordinator/dashboard/api/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: AGENT_KEY, agent_id: "deno-person" }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const overview = await fetch(`${url}/coordinator/dashboard/api/overview`, { headers: { Cookie: cookie } });
    expect(overview.status).toBe(200);
    expect(await overview.json()).toMatchObject({ agents: expect.any(Array), events_cursor: expect.any(Number) });
  });

  it("ends an event stream cleanly at its limit; the client resumes with Last-Event-ID, nothing lost or repeated", async () => {
    const headers = { Authorization: `Bearer ${AGENT_KEY}`, "X-Agent-Id": "deno-watcher" };
    const lock = async (path: string) => {
      const res = await fetch(`${url}/coordinator/locks/acquire`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${AGENT_KEY}`,
          "X-Agent-Id": "deno-locker",
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ file_path: path }),
      });
      expect(res.status).toBe(200);
    };
    const first = await fetch(`${url}/coordinator/events?kinds=lock.acquired`, { headers });
    expect(first.status).toBe(200);
    const r1 = new SseReader(first.body!);
    await lock("edge/one.ts");
    await r1.until((r) => r.json().some((e) => e.subject === "edge/one.ts"), 20_000, "the first lock");
    await r1.end(30_000);
    expect(r1.comments.at(-1)).toMatch(/reconnect with Last-Event-ID/);
    await lock("edge/two.ts");
    const second = await fetch(`${url}/coordinator/events?kinds=lock.acquired`, {
      headers: { ...headers, "Last-Event-ID": r1.lastEventId! },
    });
    const r2 = new SseReader(second.body!);
    await r2.until((r) => r.json().some((e) => e.subject === "edge/two.ts"), 20_000, "the lock taken in between");
    expect(r2.json().map((e) => e.subject)).toEqual(["edge/two.ts"]);
    await r2.close();
  });
});
