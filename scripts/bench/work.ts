import { callJson, type Db } from "../../functions-src/db/port.ts";
import {
  benchDatabase,
  benchHeaders,
  httpClient,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
  type LoadResult,
} from "./harness.ts";
import { dbTimePerCall, dbTimeRow } from "./db-time.ts";
import { references } from "./references.ts";

type Client = ReturnType<typeof httpClient>;
interface Claimed {
  id: string;
  claim_token: number;
}

let typeSeq = 0;

/** Puts `n` ready tasks of a fresh type in the queue with one statement (setup, not measured). */
async function fill(db: Db, n: number): Promise<string> {
  const type = `bench-${++typeSeq}`;
  await db.query("insert into coord.tasks (task_type, submitted_by) select $1, 'bench' from generate_series(1, $2)", [
    type,
    n,
  ]);
  // A bulk insert is faster than autovacuum notices it: without fresh statistics the claim's cached plan may still
  // be the one chosen for a tiny table. Real queues grow gradually and autovacuum keeps up.
  await db.query("analyze coord.tasks");
  return type;
}

/** A load result counted in tasks rather than calls (batch calls move many tasks each). */
function perTask(r: LoadResult, tasks: number): LoadResult {
  return { ...r, ops: tasks, throughput: tasks / r.seconds };
}

async function claimCompleteSql(db: Db, type: string, agent: string, limit: number): Promise<number> {
  const { tasks } = await callJson<{ tasks: Claimed[] }>(db, "coord.claim_tasks", [
    agent,
    null,
    "bench",
    [type],
    null,
    limit,
    600,
  ]);
  if (tasks.length === 0) return 0;
  await callJson(db, "coord.complete_tasks", [
    agent,
    null,
    tasks.map((t) => ({ task_id: t.id, claim_token: t.claim_token, success: true })),
  ]);
  return tasks.length;
}

async function claimCompleteHttp(client: Client, type: string, agent: string, limit: number): Promise<number> {
  const h = benchHeaders(agent);
  const r = await client.call("POST", "/work/claim", { task_types: [type], limit }, h);
  const tasks = (r.body?.tasks ?? []) as Claimed[];
  if (tasks.length === 0) return 0;
  if (limit === 1) {
    await client.call(
      "POST",
      `/work/tasks/${tasks[0]!.id}/complete`,
      { claim_token: tasks[0]!.claim_token, success: true },
      h,
    );
  } else {
    await client.call(
      "POST",
      "/work/complete",
      { completions: tasks.map((t) => ({ task_id: t.id, claim_token: t.claim_token, success: true })) },
      h,
    );
  }
  return tasks.length;
}

/**
 * Work queue rows (Postgres only: PGlite serialises every query, so worker counts mean nothing there): submit
 * single and batch, claim+complete at 1/8/32 workers with single and batch claims over HTTP and raw SQL, claim
 * latency, submit→claim latency of a long-polling worker, and throughput with a small versus a large table.
 */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  if (!ctx.adminUrl) {
    ctx.log("work: skipped (needs DATABASE_URL)");
    return [];
  }
  const rows: BenchRow[] = [];
  const durationMs = 3000 * ctx.scale;
  const database = await benchDatabase(ctx.adminUrl);
  const server = await startServer("postgres", database.url);
  const client = httpClient(server.url);
  const db = database.db;
  try {
    // A table with history, analysed, before anything runs: plans a session caches on an empty table (generic plans
    // against zero-row statistics) stay until the next ANALYZE, and a bench fills the table faster than autovacuum
    // looks. Without this the SQL rows, measured first, ran on plans for an empty table and HTTP "beat" SQL at batch
    // submit (222%); in service autovacuum analyses within its first minute.
    await db.query(
      `insert into coord.tasks (task_type, submitted_by, status, attempts, finished_at)
       select 'history', 'bench', 'completed', 1, now() from generate_series(1, $1::int)`,
      [Math.ceil(200_000 * ctx.scale)],
    );
    await db.query("analyze coord.tasks");
    // Submit, single and in batches of 100.
    const submitSql = await runLoad(
      8,
      () => callJson(db, "coord.submit_tasks", ["bench", null, [{ task_type: "bench-submit" }]]),
      { durationMs },
    );
    const submitHttp = await runLoad(
      8,
      () => client.call("POST", "/work/tasks", { task_type: "bench-submit" }, benchHeaders("bench")),
      { durationMs },
    );
    rows.push(row("work submit (1 task)", "sql", "postgres", 8, submitSql));
    rows.push(
      row("work submit (1 task)", "http", "postgres", 8, submitHttp, {
        ratio: submitHttp.throughput / submitSql.throughput,
      }),
    );
    const hundred = Array.from({ length: 100 }, () => ({ task_type: "bench-submit" }));
    const bSql = await runLoad(4, () => callJson(db, "coord.submit_tasks", ["bench", null, hundred]), {
      durationMs,
      warmupMs: 0,
    });
    const bHttp = await runLoad(
      4,
      () => client.call("POST", "/work/tasks/batch", { tasks: hundred }, benchHeaders("bench")),
      { durationMs, warmupMs: 0 },
    );
    rows.push(row("work submit (batch of 100), tasks/s", "sql", "postgres", 4, perTask(bSql, bSql.ops * 100)));
    rows.push(
      row("work submit (batch of 100), tasks/s", "http", "postgres", 4, perTask(bHttp, bHttp.ops * 100), {
        ratio: bHttp.throughput / bSql.throughput,
      }),
    );
    await db.query("delete from coord.tasks where task_type = 'bench-submit'");

    // Claim + complete, single and batch claims, at 1, 8 and 32 workers (claims of 100 at 32 only: the aim's row).
    for (const [limit, levels] of [
      [1, [1, 8, 32]],
      [10, [1, 8, 32]],
      [100, [32]],
    ] as const) {
      for (const workers of levels) {
        const prefill = Math.ceil(({ 1: 4000, 10: 20000, 100: 80000 }[limit] ?? 4000) * ctx.scale) + 2000;
        let sqlTasks = 0;
        const sqlType = await fill(db, prefill);
        const s = await runLoad(
          workers,
          async (w, i) => {
            const n = await claimCompleteSql(db, sqlType, `sql-${w}`, limit);
            if (i >= 0) sqlTasks += n;
          },
          { durationMs },
        );
        let httpTasks = 0;
        const httpType = await fill(db, prefill);
        const h = await runLoad(
          workers,
          async (w, i) => {
            const n = await claimCompleteHttp(client, httpType, `http-${w}`, limit);
            if (i >= 0) httpTasks += n;
          },
          { durationMs },
        );
        const name =
          limit === 1 ? "work claim+complete, tasks/s" : `work claim+complete (batches of ${limit}), tasks/s`;
        const sqlRow = perTask(s, sqlTasks);
        const httpRow = perTask(h, httpTasks);
        // graphile-worker's rows: unbatched against single claims, its batched mode against claims of 100.
        const ref =
          limit === 1 ? references.graphile?.unbatched : limit === 100 ? references.graphile?.batched : undefined;
        rows.push(row(name, "sql", "postgres", workers, sqlRow, { note: "p50/p99 per claim+complete call pair" }));
        rows.push(
          row(name, "http", "postgres", workers, httpRow, {
            ratio: httpRow.throughput / sqlRow.throughput,
            vsRef: ref ? httpRow.throughput / ref : undefined,
            note: ref ? `vs ref: graphile-worker ${limit === 1 ? "unbatched" : "batched"}` : undefined,
          }),
        );
      }
    }

    // The group-commit lever: single claims at 32 workers with every call sent alone.
    {
      const alone = await startServer("postgres", database.url, { COORDINATOR_GROUP_COMMIT: "off" });
      const aloneClient = httpClient(alone.url);
      try {
        const type = await fill(db, Math.ceil(4000 * ctx.scale) + 2000);
        let tasks = 0;
        const r = await runLoad(
          32,
          async (w, i) => {
            const n = await claimCompleteHttp(aloneClient, type, `alone-${w}`, 1);
            if (i >= 0) tasks += n;
          },
          { durationMs },
        );
        const t = perTask(r, tasks);
        rows.push(
          row("work claim+complete, tasks/s", "http", "postgres", 32, t, {
            vsRef: references.graphile ? t.throughput / references.graphile.unbatched : undefined,
            note: "COORDINATOR_GROUP_COMMIT=off (every call alone)",
          }),
        );
      } finally {
        aloneClient.close();
        await alone.stop();
      }
    }

    // The database's own time per claim and per completion, one worker over HTTP (pg_stat_statements).
    {
      const type = await fill(db, Math.ceil(4000 * ctx.scale) + 2000);
      const time = await dbTimePerCall(db, ["coord.claim_tasks", "coord.complete_tasks"], () =>
        runLoad(1, () => claimCompleteHttp(client, type, "dbtime", 1), { durationMs }),
      );
      if (time) rows.push(dbTimeRow("work db time per call (pg_stat_statements)", time));
    }

    // Claim latency alone (tasks stay claimed).
    const claimType = await fill(db, Math.ceil(20000 * ctx.scale) + 5000);
    const claimOnly = await runLoad(
      8,
      (w) => client.call("POST", "/work/claim", { task_types: [claimType] }, benchHeaders(`lat-${w}`)),
      { durationMs },
    );
    rows.push(row("work claim (get_work) latency", "http", "postgres", 8, claimOnly));

    // Submit → claim for a worker already waiting (wait_seconds long-poll woken by the event feed). The submit goes
    // through the API, as agents' do: the app announces it after commit. A write made straight in SQL announces
    // nothing and is seen at the feed's next poll (one second).
    const wakeLatencies: number[] = [];
    const rounds = Math.max(10, Math.ceil(40 * ctx.scale));
    for (let i = 0; i < rounds; i++) {
      const type = `bench-wake-${i}`;
      const waiting = client.call(
        "POST",
        "/work/claim",
        { task_types: [type], wait_seconds: 10 },
        benchHeaders("waiter"),
      );
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      const sent = await client.call("POST", "/work/tasks", { task_type: type }, benchHeaders("bench"));
      if (sent.status !== 201 && sent.status !== 200) throw new Error(`submit answered ${sent.status}`);
      const got = await waiting;
      if (got.body?.tasks?.length !== 1) throw new Error(`waiting worker got ${JSON.stringify(got.body)}`);
      wakeLatencies.push(performance.now() - t0);
    }
    wakeLatencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      wakeLatencies[Math.min(wakeLatencies.length - 1, Math.floor((p / 100) * wakeLatencies.length))]!;
    rows.push({
      name: "work submit→claim, waiting worker",
      via: "http",
      db: "postgres",
      concurrency: 1,
      ops: rounds,
      throughput: 0,
      p50ms: pct(50),
      p95ms: pct(95),
      p99ms: pct(99),
      note: "ms from the submit request to the waiting claim's answer",
    });

    // Table size: claim+complete (8 SQL workers, batches of 10) with few rows, then with many completed rows.
    const measureAt = async (label: string) => {
      const type = await fill(db, Math.ceil(15000 * ctx.scale) + 2000);
      let tasks = 0;
      const r = await runLoad(
        8,
        async (w, i) => {
          const n = await claimCompleteSql(db, type, `size-${w}`, 10);
          if (i >= 0) tasks += n;
        },
        { durationMs },
      );
      const [{ n }] = (await db.query<{ n: string }>("select count(*) as n from coord.tasks")) as [{ n: string }];
      rows.push(
        row(`work claim+complete (batches of 10), ${label}`, "sql", "postgres", 8, perTask(r, tasks), {
          note: `${Number(n).toLocaleString("en")} rows in coord.tasks`,
        }),
      );
    };
    await db.query("delete from coord.tasks");
    await db.query("vacuum analyze coord.tasks").catch(() => {});
    await measureAt("small table");
    const big = Math.ceil(1_000_000 * ctx.scale);
    const t0 = performance.now();
    await db.query(
      `insert into coord.tasks (task_type, submitted_by, status, attempts, result, finished_at, created_at)
      select 'history-' || (g % 20), 'bench', 'completed', 1, '{"ok":true}', now(), now() - make_interval(secs => g)
        from generate_series(1, $1::int) g`,
      [big],
    );
    await db.query("vacuum analyze coord.tasks").catch(() => {});
    ctx.log(`work: inserted ${big} completed rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await measureAt("large table");
  } finally {
    client.close();
    await server.stop();
    await database.drop();
  }
  return rows;
}
