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

  it("a release through one app wakes the event feed of another, and the acquire waiting there gets the lock", async () => {
    // App a's feed would only poll after a minute: a read sooner came from b's NOTIFY.
    const base = testApp(pg.db).deps.config.events;
    const a = testApp(pg.db, { config: { events: { ...base, pollMs: 60_000 } } }).app;
    const b = testApp(other).app;
    const post = (app: typeof a, agent: string, path: string, body: unknown) =>
      app.request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
    const settle = async () => {
      // Until the feed has gone idle (no read for 300 ms), with a generous ceiling.
      for (let i = 0, last = -1; i < 100; i++) {
        if (a.deps.feed.reads === last) return;
        last = a.deps.feed.reads;
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    try {
      expect((await post(b, "holder", "/locks/acquire", { repo: "x1", file_path: "f.ts" })).status).toBe(200);
      const waiting = post(a, "waiter", "/locks/acquire", { repo: "x1", file_path: "f.ts", wait_seconds: 15 });
      // Let the waiter make its first attempt and start waiting, and a's feed go idle.
      for (let i = 0; i < 250 && a.deps.feed.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(a.deps.feed.size).toBeGreaterThan(0);
      await settle();
      const before = a.deps.feed.reads;
      expect((await post(b, "holder", "/locks/release", { repo: "x1", file_path: "f.ts" })).status).toBe(200);
      for (let i = 0; i < 500 && a.deps.feed.reads === before; i++) await new Promise((r) => setTimeout(r, 20));
      // Nothing of a's own could have made it read: b's NOTIFY did.
      expect(a.deps.feed.reads).toBeGreaterThan(before);
      const res = await waiting;
      expect(res.status).toBe(200);
      expect((await res.json()).locks[0].agent_id).toBe("waiter");
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
