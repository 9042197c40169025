/**
 * Many sessions coming back at once after an outage longer than their timeout: every bridge heartbeats at the same
 * moment, each heartbeat declares dead sessions dead (its own among them), while agents also claim and acquire. On the
 * real server only (PGlite runs one query at a time); CI sets DATABASE_URL. No call may fail (a deadlock would surface
 * as an error here, as a 500 to a bridge), every session ends up alive holding nothing it held before, and every loss
 * was recorded once, naming the cause.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { DATABASE_URL, freshPostgres } from "../../test/helpers.ts";

describe.runIf(!!DATABASE_URL)("sessions back at once after an outage [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  beforeAll(async () => {
    pg = await freshPostgres({ max: 8 });
  });
  afterAll(async () => {
    await pg?.drop();
  });

  it("40 dead sessions heartbeat concurrently with claims and acquires: no error, each loss recorded once", async () => {
    const N = 40;
    const conns = Array.from({ length: N }, () => postgres(pg.url, { max: 1, onnotice: () => {} }));
    try {
      // Each session holds two locks (one shared directory with its neighbour's files, to make guards meet) and a
      // claim, under a 1 s timeout.
      await pg.db.query(
        "select coord.submit_tasks('orch', null, (select jsonb_agg(jsonb_build_object('task_type', 'outage')) from generate_series(1, $1)))",
        [N * 2],
      );
      await Promise.all(
        conns.map(async (conn, i) => {
          await conn`select coord.heartbeat(${`a${i}`}, ${`s${i}`}, 'x', 1)`;
          const [{ r }] =
            (await conn`select coord.acquire_locks('outage', ${`a${i}`}, ${`s${i}`}, ${[`d${i}/x.ts`, `f${i}.ts`]}::text[], 'w', 600) as r`) as unknown as [
              { r: any },
            ];
          expect(r.error).toBeUndefined();
          await conn`select coord.claim_tasks(${`a${i}`}, ${`s${i}`}, 'x', ${["outage"]}::text[], null, 1, 600)`;
        }),
      );
      await new Promise((r) => setTimeout(r, 1500));

      // The outage ends: every bridge beats at once; half the agents also claim, the other half re-acquire.
      const results = await Promise.allSettled(
        conns.map(async (conn, i) => {
          await conn`select coord.heartbeat(${`a${i}`}, ${`s${i}`}, 'x', 60)`;
          if (i % 2 === 0) {
            await conn`select coord.claim_tasks(${`a${i}`}, ${`s${i}`}, 'x', ${["outage"]}::text[], null, 1, 600)`;
          } else {
            await conn`select coord.acquire_locks('outage', ${`a${i}`}, ${`s${i}`}, ${[`d${(i + 1) % N}/`]}::text[], 'w', 600)`;
          }
        }),
      );
      expect(
        results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);

      const sessions = await pg.db.query<{ alive: boolean; ended: boolean }>(
        "select bool_and(live_until > now()) as alive, bool_or(ended_at is not null) as ended from coord.sessions where agent_id like 'a%'",
      );
      expect(sessions).toEqual([{ alive: true, ended: false }]);
      const expired = await pg.db.query<{ n: number }>(
        "select count(*)::int as n from coord.events where kind = 'session.expired'",
      );
      expect(expired[0]!.n).toBe(N);
      // Every original lock went exactly once, naming the session's death; every original claim came back once.
      const lost = await pg.db.query<{ cause: string; n: number; keys: number }>(
        `select data->>'cause' as cause, count(*)::int as n, count(distinct subject)::int as keys
           from coord.events where kind = 'lock.expired' and data->>'repo' = 'outage' group by 1`,
      );
      expect(lost).toEqual([{ cause: "session_expired", n: N * 2, keys: N * 2 }]);
      const released = await pg.db.query<{ reason: string; n: number }>(
        "select data->>'reason' as reason, count(*)::int as n from coord.events where kind = 'task.released' group by 1",
      );
      expect(released).toEqual([{ reason: "session expired", n: N }]);
      const notices = await pg.db.query<{ kind: string; n: number }>(
        "select kind, count(*)::int as n from coord.session_notices group by kind order by kind",
      );
      expect(notices).toEqual([
        { kind: "claim_lost", n: N },
        { kind: "lock_lost", n: N * 2 },
      ]);
    } finally {
      await Promise.all(conns.map((c) => c.end()));
    }
  }, 60_000);
});
