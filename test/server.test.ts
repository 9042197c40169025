import { createServer, connect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createPostgresDb } from "../functions-src/db/postgres.ts";
import { agentHeaders, DATABASE_URL, freshPostgres, pgliteFromTemplate, testApp } from "./helpers.ts";
import { listen } from "./server.ts";

/**
 * A TCP proxy in front of Postgres that can be cut and restored, to take "the database" away from the app without
 * touching the shared server. Cut means what a stopped server looks like: open connections drop and new ones
 * are refused.
 */
async function tcpProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore: () => new Promise<void>((r) => server.listen(port, "127.0.0.1", r)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("a real listening server (PGlite)", () => {
  it("serves /health and authenticated routes over TCP and refuses oversized bodies by Content-Length", async () => {
    const db = await pgliteFromTemplate();
    const server = await listen(testApp(db, { config: { maxBodyBytes: 2048 } }).app);
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const me = await fetch(`${server.url}/me`, { headers: agentHeaders("tcp-agent") });
      expect(await me.json()).toMatchObject({ agent_id: "tcp-agent" });
      expect(me.headers.get("x-request-id")).toBeTruthy();
      const big = await fetch(`${server.url}/sessions/heartbeat`, {
        method: "POST",
        headers: agentHeaders("tcp-agent", { "X-Session-Id": "s" }),
        body: JSON.stringify({ pad: "y".repeat(10_000) }),
      });
      expect(big.status).toBe(413);
    } finally {
      await server.close();
      await db.close();
    }
  });
});

// Taking the database away needs a database server to take away.
describe.runIf(!!DATABASE_URL)("health while the database goes down and comes back (Postgres)", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;

  beforeAll(async () => {
    pg = await freshPostgres();
    proxy = await tcpProxy(new URL(pg.url));
  });
  afterAll(async () => {
    await proxy.close();
    await pg.drop();
  });

  it("answers 503 while the database is unreachable and 200 again once it returns, without a restart", async () => {
    const viaProxy = new URL(pg.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const db = createPostgresDb(viaProxy.toString(), { max: 2, connectTimeout: 1 });
    const { app } = testApp(db, { config: { healthTimeoutMs: 1500 } });
    try {
      expect((await app.request("/health")).status).toBe(200);
      const { "Content-Type": _ct, ...headers } = agentHeaders("down-agent");
      const mcp = new Client({ name: "outage-test", version: "1.0.0" });
      await mcp.connect(
        new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
          requestInit: { headers },
          fetch: (url, init) => Promise.resolve(app.request(String(url), init as RequestInit)),
        }),
      );

      proxy.cut();
      // Over MCP the tool answers an error the agent reads: unavailable, retry.
      const tool = await mcp.callTool({ name: "check_locks", arguments: {} });
      expect(tool.isError).toBe(true);
      expect((tool.content as Array<{ text: string }>)[0]!.text).toMatch(/^unavailable: .*retry in \d+ s/);
      const down = await app.request("/health");
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable", database: { reachable: false } });
      // Authenticated routes answer 503 unavailable with Retry-After: no hang, no internals.
      const during = await app.request("/status", { headers: agentHeaders("down-agent") });
      expect(during.status).toBe(503);
      expect(Number(during.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(((await during.json()) as any).error).toMatchObject({ code: "unavailable", message: /retry/ });
      const write = await app.request("/locks/acquire", {
        method: "POST",
        headers: agentHeaders("down-agent"),
        body: JSON.stringify({ file_path: "down.ts" }),
      });
      expect(write.status).toBe(503);

      await proxy.restore();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await app.request("/health")).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(200);
      expect((await app.request("/status", { headers: agentHeaders("down-agent") })).status).toBe(200);
      await mcp.close();
    } finally {
      await db.close();
    }
  });
});

describe.runIf(!!DATABASE_URL)("outages answer 503 quickly and recover at once (Postgres)", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;

  beforeAll(async () => {
    pg = await freshPostgres();
    proxy = await tcpProxy(new URL(pg.url));
  });
  afterAll(async () => {
    await proxy.close();
    await pg.drop();
  });

  it("after an outage with many failed attempts, the whole pool is back within seconds of the server (F7)", async () => {
    const viaProxy = new URL(pg.url);
    viaProxy.port = String(proxy.port);
    const db = createPostgresDb(viaProxy.toString(), { max: 10, connectTimeout: 2 });
    const { app } = testApp(db);
    try {
      await db.query("select 1");
      proxy.cut();
      // Clients keep trying while the server is away: each failed connection attempt used to lengthen the pool's
      // shared backoff (3^n/100 s, up to 20 s), so reconnections came seconds apart after the server was back.
      const stopAt = Date.now() + 3_000;
      const statuses = new Set<number>();
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          while (Date.now() < stopAt) {
            const res = await app.request("/status", { headers: agentHeaders(`outage-${i}`) });
            statuses.add(res.status);
            await res.arrayBuffer();
          }
        }),
      );
      expect([...statuses]).toEqual([503]);

      await proxy.restore();
      const back = Date.now();
      // Ten requests at once, each needing its own connection (pg_sleep holds it), until all succeed.
      let allOk = false;
      while (!allOk && Date.now() - back < 60_000) {
        const rows = await Promise.all(
          Array.from({ length: 10 }, () =>
            db.query("select pg_sleep(0.05)").then(
              () => true,
              () => false,
            ),
          ),
        );
        allOk = rows.every(Boolean);
      }
      const recoveredMs = Date.now() - back;
      console.log(`pool recovery after the server accepted connections again: ${recoveredMs} ms`);
      expect(allOk).toBe(true);
      // The target is 2 s; the ceiling is generous for a loaded machine (before: up to 20 s).
      expect(recoveredMs).toBeLessThan(8_000);
    } finally {
      await db.close();
    }
  }, 120_000);

  it("a server that accepts TCP and closes it, or never answers, fails queries within the connect timeout", async () => {
    const sockets = new Set<Socket>();
    const closing = createServer((s) => s.destroy());
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => closing.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      for (const server of [closing, silent]) {
        const port = (server.address() as { port: number }).port;
        const db = createPostgresDb(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 2, connectTimeout: 1 });
        const { app } = testApp(db);
        const started = Date.now();
        await expect(db.query("select 1")).rejects.toBeTruthy();
        const res = await app.request("/status", { headers: agentHeaders("hang-agent") });
        expect(res.status).toBe(503);
        expect(Date.now() - started).toBeLessThan(30_000);
        await db.close().catch(() => {});
      }
    } finally {
      for (const s of sockets) s.destroy();
      closing.close();
      silent.close();
    }
  }, 120_000);
});
