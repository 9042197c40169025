import { createServer, connect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

      proxy.cut();
      const down = await app.request("/health");
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable", database: { reachable: false } });
      // Authenticated routes fail cleanly too: a 5xx JSON error, no hang, no internals.
      const during = await app.request("/status", { headers: agentHeaders("down-agent") });
      expect(during.status).toBeGreaterThanOrEqual(500);

      await proxy.restore();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await app.request("/health")).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(200);
      expect((await app.request("/status", { headers: agentHeaders("down-agent") })).status).toBe(200);
    } finally {
      await db.close();
    }
  });
});
