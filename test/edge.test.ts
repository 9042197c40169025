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
});
