/**
 * Announcing after commit (events/announce.ts) on real Postgres: a write made through one app wakes a request
 * waiting in another app (another process, as far as the database can tell: its own pool and LISTEN connection), and
 * bursts of announcements collapse into a few NOTIFYs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentHeaders, DATABASE_URL, freshPostgres, silentLog, testApp } from "../../test/helpers.ts";
import { createPostgresDb } from "../db/postgres.ts";
import type { Db } from "../db/port.ts";
import { createAnnouncer, EVENTS_CHANNEL } from "./announce.ts";

describe.runIf(DATABASE_URL)("announcing commits across processes [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let other: Db;
  beforeAll(async () => {
    pg = await freshPostgres();
    other = createPostgresDb(pg.url, { max: 4 });
  });
  afterAll(async () => {
    await other?.close();
    await pg?.drop();
  });

  it("a release through one app wakes an acquire waiting in another, well before its 2 s re-check", async () => {
    // App a's feed would only poll after a minute: a wake-up sooner came from b's NOTIFY.
    const base = testApp(pg.db).deps.config.events;
    const a = testApp(pg.db, { config: { events: { ...base, pollMs: 60_000 } } }).app;
    const b = testApp(other).app;
    const post = (app: typeof a, agent: string, path: string, body: unknown) =>
      app.request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
    try {
      expect((await post(b, "holder", "/locks/acquire", { repo: "x1", file_path: "f.ts" })).status).toBe(200);
      const waiting = post(a, "waiter", "/locks/acquire", { repo: "x1", file_path: "f.ts", wait_seconds: 15 });
      // Let the waiter make its first attempt and start waiting.
      for (let i = 0; i < 100 && a.deps.feed.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(a.deps.feed.size).toBeGreaterThan(0);
      expect((await post(b, "holder", "/locks/release", { repo: "x1", file_path: "f.ts" })).status).toBe(200);
      const res = await waiting;
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.locks[0].agent_id).toBe("waiter");
      // The waiter's own safety-net re-check comes at 2 s; earlier, it was the NOTIFY.
      expect(body.waited_ms).toBeLessThan(1900);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a burst of announcements sends a few NOTIFYs, not one each", async () => {
    const received: string[] = [];
    const stop = await other.listen(EVENTS_CHANNEL, (p) => received.push(p));
    let poked = 0;
    const counting = createAnnouncer(pg.db, silentLog, () => poked++);
    try {
      for (let i = 0; i < 200; i++) counting.announce();
      // Every announcement pokes the local feed at once.
      expect(poked).toBe(200);
      const until = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      expect(received.length).toBeGreaterThanOrEqual(1);
      expect(received.length).toBeLessThanOrEqual(3);
    } finally {
      counting.close();
      await stop();
    }
  });
});
