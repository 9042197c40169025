/**
 * Exactly-once under contention. Concurrency is only meaningful on the real Postgres server (PGlite runs one query
 * at a time), so this suite runs only when DATABASE_URL is set. Workers record every claim and completion with
 * its claim token; a checker then proves each task completed exactly once and never had two holders at once,
 * against both the recorded history and the events table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, type Db } from "../db/port.ts";
import type { Refusal } from "../ops/call.ts";
import { agentHeaders, DATABASE_URL, freshPostgres, testApp } from "../../test/helpers.ts";

interface Claim {
  task: string;
  worker: string;
  token: number;
  returnedAt: number;
  /** The database's claimed_at (µs). */
  claimedAt?: bigint;
  /** The claimant's session died holding it: its lease_expires_at (µs), when the claim ended. */
  diedAt?: bigint;
}
interface Done {
  task: string;
  worker: string;
  token: number;
  success: boolean;
  ok: boolean;
  status: string | null;
  code?: string;
  sentAt: number;
}
interface Task {
  id: string;
  claim_token: number;
  claimed_at: string;
  lease_expires_at: string;
}

/** Microseconds since the epoch from a timestamptz rendered by jsonb (any offset). */
function micros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$/.exec(iso)!;
  return BigInt(Date.parse(m[1]! + m[3]!)) * 1000n + BigInt(Math.round(Number(`0${m[2] ?? ""}`) * 1e6));
}
interface Result {
  task_id: string;
  ok: boolean;
  status: string | null;
  code?: string;
  /** The same report again, answered with the state it left: a retry, not a completion. */
  replayed?: boolean;
}

/** A worker's two calls, over SQL or over the HTTP app. */
interface Channel {
  claim(limit: number): Promise<Task[]>;
  complete(
    items: Array<{ task_id: string; claim_token: number; success: boolean; error_message?: string }>,
  ): Promise<Result[]>;
}

function sqlChannel(db: Db, agent: string, type: string, session: string | null = null): Channel {
  return {
    claim: async (limit) =>
      (await callJson<{ tasks: Task[] }>(db, "coord.claim_tasks", [agent, session, "worker", [type], null, limit, 600]))
        .tasks,
    // SQL answers each item's state or a refusal {error: {code, status}}: read as the HTTP batch route answers it.
    complete: async (items) =>
      (
        await callJson<{ results: Array<{ task_id: string; status?: string; replayed?: boolean; error?: Refusal }> }>(
          db,
          "coord.complete_tasks",
          [agent, null, items],
        )
      ).results.map((r) =>
        r.error
          ? { task_id: r.task_id, ok: false, status: (r.error.status as string) ?? null, code: r.error.code }
          : { task_id: r.task_id, ok: true, status: r.status ?? null, replayed: r.replayed },
      ),
  };
}

function httpChannel(app: ReturnType<typeof testApp>["app"], agent: string, type: string): Channel {
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    claim: async (limit) => {
      const r = await post("/work/claim", { task_types: [type], limit });
      if (r.status !== 200) throw new Error(`claim ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.tasks;
    },
    complete: async (items) => {
      const r = await post("/work/complete", { completions: items });
      if (r.status !== 200) throw new Error(`complete ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.results;
    },
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** The checker: every task completed exactly once, holds never overlap, tokens only grow. */
function checkHistory(ids: string[], claims: Claim[], dones: Done[]) {
  const problems: string[] = [];
  const claimsBy = groupBy(claims, (c) => c.task);
  const donesBy = groupBy(dones, (d) => d.task);
  for (const id of ids) {
    const cs = (claimsBy.get(id) ?? []).sort((a, b) => a.token - b.token);
    const ds = donesBy.get(id) ?? [];
    const completions = ds.filter((d) => d.ok && d.status === "completed");
    if (completions.length !== 1) problems.push(`${id}: ${completions.length} accepted completions`);
    if (new Set(cs.map((c) => c.token)).size !== cs.length) problems.push(`${id}: a token was granted twice`);
    for (let i = 0; i < cs.length; i++) {
      const died = cs[i]!.diedAt;
      if (died !== undefined) {
        // Its session died holding it: no completion of that claim may be accepted, and nobody may claim the task
        // again before the claim's lease (capped at the session's liveness) ran out.
        if (ds.some((d) => d.ok && d.token === cs[i]!.token))
          problems.push(`${id}: a dead claim ${cs[i]!.token} completed`);
        const next = cs[i + 1];
        if (next?.claimedAt !== undefined && next.claimedAt < died)
          problems.push(`${id}: claim ${next.token} taken before dead claim ${cs[i]!.token} expired`);
        continue;
      }
      const release = ds.find((d) => d.ok && d.token === cs[i]!.token);
      if (!release) {
        problems.push(`${id}: claim ${cs[i]!.token} by ${cs[i]!.worker} never released`);
        continue;
      }
      if (release.worker !== cs[i]!.worker) problems.push(`${id}: token ${cs[i]!.token} released by another worker`);
      // Two holders at once: the next claim returned before this holder even asked to release.
      const next = cs[i + 1];
      if (next && next.returnedAt < release.sentAt)
        problems.push(`${id}: claim ${next.token} overlapped claim ${cs[i]!.token}`);
      if (next && release.status !== "pending") problems.push(`${id}: claimed again after ${release.status}`);
    }
    for (const d of ds) {
      if (d.ok && !cs.some((c) => c.token === d.token && c.worker === d.worker))
        problems.push(`${id}: accepted completion without its claim`);
    }
  }
  return problems;
}

describe("exactly-once checker", () => {
  it("flags double completions, overlapping holds, re-claims after completion and releases by others", () => {
    const claims: Claim[] = [
      { task: "a", worker: "w1", token: 1, returnedAt: 10 },
      { task: "a", worker: "w2", token: 2, returnedAt: 15 },
    ];
    const dones: Done[] = [
      { task: "a", worker: "w1", token: 1, success: true, ok: true, status: "completed", sentAt: 20 },
      { task: "a", worker: "w2", token: 2, success: true, ok: true, status: "completed", sentAt: 30 },
    ];
    const problems = checkHistory(["a"], claims, dones);
    expect(problems).toContain("a: 2 accepted completions");
    expect(problems).toContain("a: claim 2 overlapped claim 1");
    expect(problems).toContain("a: claimed again after completed");
    expect(
      checkHistory(
        ["b"],
        [{ task: "b", worker: "w1", token: 3, returnedAt: 1 }],
        [{ task: "b", worker: "w9", token: 3, success: true, ok: true, status: "completed", sentAt: 2 }],
      ),
    ).toContain("b: token 3 released by another worker");
    expect(checkHistory(["c"], [], [])).toEqual(["c: 0 accepted completions"]);
    const dead: Claim = { task: "d", worker: "w1", token: 5, returnedAt: 1, claimedAt: 10n, diedAt: 100n };
    expect(
      checkHistory(
        ["d"],
        [dead, { task: "d", worker: "w2", token: 6, returnedAt: 2, claimedAt: 50n }],
        [
          { task: "d", worker: "w1", token: 5, success: true, ok: true, status: "completed", sentAt: 3 },
          { task: "d", worker: "w2", token: 6, success: true, ok: true, status: "completed", sentAt: 4 },
        ],
      ),
    ).toEqual([
      "d: 2 accepted completions",
      "d: a dead claim 5 completed",
      "d: claim 6 taken before dead claim 5 expired",
    ]);
  });
});

// Concurrency is only meaningful on the real server (PGlite serialises every query); CI sets DATABASE_URL.
describe.runIf(!!DATABASE_URL)("work queue concurrency [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  beforeAll(async () => {
    pg = await freshPostgres({ max: 40 });
  });
  afterAll(async () => {
    await pg?.drop();
  });

  /**
   * Drains `total` tasks with 32 workers. With `mortal`, some SQL claims are made under a session that heartbeated
   * once with a 1 s timeout and then die: never completed, or completed too late (a zombie); the task must come back
   * and still complete exactly once.
   */
  async function drain(type: string, total: number, limit: number, mortal = false) {
    const db = pg.db;
    const ids: string[] = [];
    for (let i = 0; i < total; i += 200) {
      const batch = Array.from({ length: Math.min(200, total - i) }, (_, k) => ({
        task_type: type,
        priority: 1 + ((i + k) % 10),
        max_attempts: 20,
        retry_backoff_seconds: 0,
      }));
      ids.push(
        ...(
          await callJson<{ tasks: Array<{ id: string }> }>(db, "coord.submit_tasks", ["orch", null, batch])
        ).tasks.map((t) => t.id),
      );
    }
    const { app } = testApp(db);
    const claims: Claim[] = [];
    const dones: Done[] = [];
    let completed = 0;
    let stale = 0;
    let deaths = 0;
    let zombies = 0;
    const worker = async (w: number) => {
      const agent = `w${w}`;
      let life = 0;
      while (completed < total) {
        // One claim in ten of an even (SQL) worker is made by a session that will die holding it.
        const dying = mortal && w % 2 === 0 && Math.random() < 0.1;
        const session = dying ? `${agent}-life-${++life}` : null;
        if (session) await callJson(db, "coord.heartbeat", [agent, session, "worker", 1]);
        const ch = w % 2 === 0 ? sqlChannel(db, agent, type, session) : httpChannel(app, agent, type);
        const got = await ch.claim(limit);
        const returnedAt = performance.now();
        if (got.length === 0) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if (dying) {
          deaths++;
          for (const t of got) {
            claims.push({
              task: t.id,
              worker: agent,
              token: t.claim_token,
              returnedAt,
              claimedAt: micros(t.claimed_at),
              diedAt: micros(t.lease_expires_at),
            });
          }
          if (Math.random() < 0.5) {
            // A zombie: its completion arrives after its session died; it must be refused.
            await new Promise((r) => setTimeout(r, 1100));
            const late = await ch.complete(
              got.map((t) => ({ task_id: t.id, claim_token: t.claim_token, success: true })),
            );
            for (const r of late) {
              expect(r.ok).toBe(false);
              dones.push({
                task: r.task_id,
                worker: agent,
                token: got.find((t) => t.id === r.task_id)!.claim_token,
                success: true,
                ok: r.ok,
                status: r.status,
                code: r.code,
                sentAt: performance.now(),
              });
            }
            zombies++;
          }
          continue;
        }
        for (const t of got)
          claims.push({ task: t.id, worker: agent, token: t.claim_token, returnedAt, claimedAt: micros(t.claimed_at) });
        // Some attempts fail (and are retried at once: backoff 0); one in twenty completions is sent twice.
        const items = got.map((t) => ({
          task_id: t.id,
          claim_token: t.claim_token,
          success: Math.random() > 0.05,
          error_message: "flaky",
        }));
        const sentAt = performance.now();
        const results = await ch.complete(items);
        results.forEach((r, k) => {
          dones.push({
            task: r.task_id,
            worker: agent,
            token: items[k]!.claim_token,
            success: items[k]!.success,
            ok: r.ok,
            status: r.status,
            code: r.code,
            sentAt,
          });
          if (r.ok && r.status === "completed") completed++;
        });
        if (Math.random() < 0.05) {
          const again = await ch.complete(items.slice(0, 1));
          stale++;
          // Sent again with its token: a finished task answers the state it left (a replay, changing nothing);
          // one scheduled for a retry, or claimed since, refuses it.
          if (again[0]!.ok) {
            expect(again[0]!.replayed).toBe(true);
            expect(results[0]).toMatchObject({ ok: true, status: again[0]!.status });
            continue;
          }
          expect(["already_completed", "lease_lost", "not_claimant"]).toContain(again[0]!.code);
          dones.push({
            task: again[0]!.task_id,
            worker: agent,
            token: items[0]!.claim_token,
            success: true,
            ok: false,
            status: again[0]!.status,
            sentAt: performance.now(),
          });
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, (_, w) => worker(w)));
    const seconds = (performance.now() - t0) / 1000;

    expect(checkHistory(ids, claims, dones)).toEqual([]);
    expect(stale).toBeGreaterThan(0);
    if (mortal) {
      expect(deaths).toBeGreaterThan(0);
      expect(zombies).toBeGreaterThan(0);
      // Each dead claim came back naming its session's death, whoever reaped it.
      const reasons = await db.query<{ reason: string; n: number }>(
        `select e.data->>'reason' as reason, count(*)::int as n from coord.events e
          where e.kind = 'task.released' and e.subject in (select id::text from coord.tasks where task_type = $1)
          group by 1`,
        [type],
      );
      expect(reasons.map((r) => r.reason)).toEqual(["session expired"]);
      expect(reasons[0]!.n).toBe(claims.filter((c) => c.diedAt !== undefined).length);
    }
    expect(dones.some((d) => d.ok && d.status === "pending")).toBe(true); // retries happened
    // The database agrees: all completed, attempts = claims, and per task the events alternate claim / release.
    const rows = await db.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from coord.tasks where task_type = $1 group by status",
      [type],
    );
    expect(rows).toEqual([{ status: "completed", n: total }]);
    const mismatched = await db.query(
      `select t.id from coord.tasks t where t.task_type = $1 and t.attempts <> (select count(*) from coord.events e where e.subject = t.id::text and e.kind = 'task.claimed')`,
      [type],
    );
    expect(mismatched).toEqual([]);
    const badSequences = await db.query(
      `
      with ev as (
        select e.subject, e.kind, lag(e.kind) over (partition by e.subject order by e.id) as prev,
               (e.data ->> 'claim_token')::bigint as token,
               lag((e.data ->> 'claim_token')::bigint) over (partition by e.subject order by e.id) as prev_token
          from coord.events e join coord.tasks t on t.id::text = e.subject where t.task_type = $1)
      select subject, kind, prev from ev
       where (kind = 'task.claimed' and prev not in ('task.submitted', 'task.retry_scheduled', 'task.released'))
          or (kind in ('task.completed', 'task.retry_scheduled') and (prev <> 'task.claimed' or token <> prev_token))
       limit 5`,
      [type],
    );
    expect(badSequences).toEqual([]);
    return { seconds, claims: claims.length, deaths };
  }

  it("32 workers (16 SQL, 16 HTTP) drain 1000 tasks with single claims: each completed exactly once", async () => {
    const r = await drain("drain-single", 1000, 1);
    expect(r.claims).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it("32 workers drain 2000 tasks with batch claims of 10 and batch completions", async () => {
    const r = await drain("drain-batch", 2000, 10);
    expect(r.claims).toBeGreaterThanOrEqual(2000);
  }, 60_000);

  it("32 workers drain 600 tasks while claimants die holding tasks and zombies complete late: still exactly once", async () => {
    const r = await drain("drain-mortal", 600, 2, true);
    expect(r.deaths).toBeGreaterThan(0);
  }, 120_000);

  it("concurrent duplicate submits with one idempotency key create one task", async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, () =>
        callJson<{ tasks: Array<{ id: string; deduplicated: boolean }> }>(pg.db, "coord.submit_tasks", [
          "idem-orch",
          null,
          [{ task_type: "idem", idempotency_key: "same-key" }],
        ]),
      ),
    );
    const ids = new Set(results.map((r) => r.tasks[0]!.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.tasks[0]!.deduplicated)).toHaveLength(1);
    expect(await pg.db.query("select 1 from coord.tasks where idempotency_key = 'same-key'")).toHaveLength(1);
  });

  it("dependents submitted while their dependency completes are never left waiting", async () => {
    for (let round = 0; round < 10; round++) {
      const type = `race-${round}`;
      const [dep] = (
        await callJson<{ tasks: Array<{ id: string }> }>(pg.db, "coord.submit_tasks", [
          "o",
          null,
          [{ task_type: type }],
        ])
      ).tasks;
      const [claimed] = (
        await callJson<{ tasks: Task[] }>(pg.db, "coord.claim_tasks", ["w", null, "x", [type], null, 1, 600])
      ).tasks;
      await Promise.all([
        callJson(pg.db, "coord.complete_tasks", [
          "w",
          null,
          [{ task_id: claimed!.id, claim_token: claimed!.claim_token, success: true }],
        ]),
        ...Array.from({ length: 8 }, () =>
          callJson(pg.db, "coord.submit_tasks", ["o", null, [{ task_type: `${type}-child`, depends_on: [dep!.id] }]]),
        ),
      ]);
      const stuck = await pg.db.query("select id from coord.tasks where task_type = $1 and pending_deps <> 0", [
        `${type}-child`,
      ]);
      expect(stuck).toEqual([]);
    }
  });
});
