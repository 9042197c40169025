/**
 * The feed's promise — every committed event delivered exactly once, in id order — checked where it can break: real
 * Postgres, where event ids are drawn at insert and transactions commit in any order. PGlite runs one transaction at
 * a time, so these tests need DATABASE_URL.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, DATABASE_URL, freshPostgres, silentLog, testApp, testConfig } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { SseReader } from "../../test/sse.ts";
import { EventFeed, type StoredEvent } from "./feed.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(!!DATABASE_URL)("event feed under concurrent commits [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let sql: postgres.Sql;

  beforeAll(async () => {
    pg = await freshPostgres({ max: 8 });
    sql = postgres(pg.url, { max: 24, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await pg?.drop();
  });

  it("draws event ids one at a time (the bound's argument needs a sequence without a per-session cache)", async () => {
    const [{ cache }] = await sql<[{ cache: number }]>`
      select seqcache::int as cache from pg_sequence where seqrelid = 'coord.events_id_seq'::regclass`;
    expect(cache).toBe(1);
  });

  it("holds back a committed event while an older id's transaction still runs, then delivers both in id order", async () => {
    const feed = new EventFeed(pg.db, silentLog, 200);
    const got: StoredEvent[] = [];
    const sub = await feed.subscribe((events) => got.push(...events.filter((e) => e.kind.startsWith("order."))));
    try {
      for (const outcome of ["commit", "rollback"] as const) {
        got.length = 0;
        const slow = await sql.reserve();
        try {
          await slow`begin`;
          // The event is the transaction's first write: coord.emit must give it an xid before it draws the id.
          await slow`select coord.emit('order.slow', 'slow-agent', null, ${outcome}, '{}'::jsonb)`;
          const [{ id: slowId }] = await slow<[{ id: number }]>`select max(id)::int as id from coord.events`;
          await sql`select coord.emit('order.fast', 'fast-agent', null, ${outcome}, '{}'::jsonb)`;
          const [{ id: fastId }] = await sql<
            [{ id: number }]
          >`select max(id)::int as id from coord.events where kind = 'order.fast'`;
          expect(fastId).toBeGreaterThan(slowId);
          // A reader that remembers the last id it saw would take fastId now and never look below it again.
          const [{ visible }] = await sql<
            [{ visible: number }]
          >`select coalesce(max(id), 0)::int as visible from coord.events`;
          expect(visible).toBe(fastId);
          const readsBefore = feed.reads;
          while (feed.reads < readsBefore + 20) await sleep(20);
          expect(got.map((e) => e.kind)).toEqual([]);
          await slow.unsafe(outcome);
        } finally {
          slow.release();
        }
        const until = Date.now() + 20_000;
        while (got.length < (outcome === "commit" ? 2 : 1) && Date.now() < until) await sleep(20);
        expect(got.map((e) => e.kind)).toEqual(outcome === "commit" ? ["order.slow", "order.fast"] : ["order.fast"]);
      }
    } finally {
      sub.unsubscribe();
      feed.close();
    }
  });

  it("delivers every committed event exactly once, in id order, to a subscriber that keeps reconnecting", async () => {
    const { app } = testApp(pg.db, {
      config: { events: { ...testConfig().events, streamSeconds: 0, wallClockSeconds: 0, backlog: 100_000 } },
    });
    const server = await listen(app);
    const WRITERS = 16;
    const RUN_MS = 8000;
    let stop = false;
    let transactions = 0;
    let rolledBack = 0;

    // Writers: transactions of varying length, some writing before their first event, some rolled back.
    const writer = async (w: number) => {
      let i = 0;
      while (!stop) {
        const n = 1 + Math.floor(Math.random() * 3);
        const long = Math.random() < 0.1;
        const abort = Math.random() < 0.1;
        try {
          await sql.begin(async (tx) => {
            if (Math.random() < 0.5) await tx`select pg_current_xact_id()`;
            for (let k = 0; k < n; k++) {
              await tx`select coord.emit('stress.event', ${`w${w}`}, null, ${`${w}:${i}:${k}`}, '{}'::jsonb)`;
              await sleep(long ? 50 + Math.random() * 250 : Math.random() * 8);
            }
            if (abort) throw new Error("rollback on purpose");
          });
        } catch (err) {
          if ((err as Error).message !== "rollback on purpose") throw err;
          rolledBack++;
        }
        transactions++;
        i++;
      }
    };

    // A naive reader beside it, for comparison only: it remembers the largest id it saw.
    const naive = new Set<number>();
    const naiveReader = async () => {
      let last = 0;
      while (!stop) {
        const rows = await sql<
          { id: number }[]
        >`select id::int from coord.events where id > ${last} and kind = 'stress.event' order by id`;
        for (const r of rows) {
          naive.add(r.id);
          last = Math.max(last, r.id);
        }
        await sleep(5);
      }
    };

    // The subscriber: SSE over HTTP, dropping the connection every few hundred ms and resuming with Last-Event-ID.
    const delivered: number[] = [];
    const perConnection: number[][] = [];
    // From the first event on: a stream opened without a resume point starts at "now".
    let lastId = "0";
    let connections = 0;
    let subscriberDone = false;
    const subscriber = async () => {
      while (!subscriberDone) {
        const res = await fetch(`${server.url}/events?kinds=stress.`, {
          headers: {
            Authorization: `Bearer ${ADMIN_KEY}`,
            "X-Agent-Id": "checker",
            "Last-Event-ID": lastId,
          },
        });
        expect(res.status).toBe(200);
        connections++;
        const reader = new SseReader(res.body!);
        await sleep(100 + Math.random() * 400);
        await reader.close();
        const ids = reader.messages.filter((m) => m.event === "stress.event").map((m) => Number(m.id));
        expect(reader.messages.some((m) => m.event === "reset")).toBe(false);
        perConnection.push(ids);
        delivered.push(...ids);
        if (reader.lastEventId) lastId = reader.lastEventId;
      }
    };

    // The subscriber starts before any stress event exists, so "everything" is well defined.
    const subscribing = subscriber();
    await sleep(300);
    const running = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), naiveReader()];
    await sleep(RUN_MS);
    stop = true;
    await Promise.all(running);

    const committed = (
      await sql<{ id: number }[]>`select id::int from coord.events where kind = 'stress.event' order by id`
    ).map((r) => r.id);
    const until = Date.now() + 60_000;
    while (new Set(delivered).size < committed.length && Date.now() < until) await sleep(100);
    subscriberDone = true;
    await subscribing;
    await app.close();
    await server.close();

    // The checker.
    for (const ids of perConnection) {
      for (let k = 1; k < ids.length; k++) expect(ids[k]!).toBeGreaterThan(ids[k - 1]!);
    }
    for (let k = 1; k < delivered.length; k++) expect(delivered[k]!).toBeGreaterThan(delivered[k - 1]!);
    expect(delivered).toEqual(committed);
    const missedByNaive = committed.filter((id) => !naive.has(id)).length;
    console.log(
      `[events postgres] ${transactions} transactions (${rolledBack} rolled back) by ${WRITERS} writers, ` +
        `${committed.length} events committed, all delivered once in id order over ${connections} connections; ` +
        `a reader that remembers the last id missed ${missedByNaive}`,
    );
  }, 120_000);
});
