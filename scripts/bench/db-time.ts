/**
 * Database time per function call, from pg_stat_statements: what the server spent executing each top-level call,
 * without the network, the driver or the app. Needs the extension preloaded (`shared_preload_libraries =
 * 'pg_stat_statements'`, a restart); without it the bench says so and leaves the row out.
 */
import type { Db } from "../../functions-src/db/port.ts";
import type { BenchRow } from "./harness.ts";

export interface DbTime {
  /** Calls counted, over all the functions. */
  calls: number;
  /** Mean execution ms per call, by function name. */
  mean: Record<string, number>;
}

/** Runs `load` and answers the mean execution time of each of `functions` called at the top level meanwhile. */
export async function dbTimePerCall(db: Db, functions: string[], load: () => Promise<unknown>): Promise<DbTime | null> {
  try {
    await db.query("create extension if not exists pg_stat_statements");
    await db.query("select pg_stat_statements_reset()");
  } catch (err) {
    process.stderr.write(`bench: no database time rows (${(err as Error).message.split("\n")[0]})\n`);
    return null;
  }
  await load();
  const rows = await db.query<{ query: string; calls: string; total: number }>(
    `select query, calls, total_exec_time as total from pg_stat_statements
      where toplevel and dbid = (select oid from pg_database where datname = current_database())`,
  );
  const out: DbTime = { calls: 0, mean: {} };
  for (const fn of functions) {
    const matching = rows.filter((r) => r.query.includes(`${fn}(`));
    const calls = matching.reduce((n, r) => n + Number(r.calls), 0);
    if (calls === 0) continue;
    out.calls += calls;
    out.mean[fn] = matching.reduce((t, r) => t + r.total, 0) / calls;
  }
  return out;
}

/** A table row for `time`: each function's mean execution ms (short names), and their sum when more than one. */
export function dbTimeRow(name: string, time: DbTime): BenchRow {
  const parts = Object.entries(time.mean).map(([fn, ms]) => `${fn.replace(/^coord\./, "")} ${ms.toFixed(3)}`);
  const total = Object.values(time.mean).reduce((a, b) => a + b, 0);
  return {
    name,
    via: "sql",
    db: "postgres",
    concurrency: 1,
    ops: time.calls,
    throughput: Number.NaN,
    p50ms: Number.NaN,
    p95ms: Number.NaN,
    p99ms: Number.NaN,
    note: `mean exec ms: ${parts.join(", ")}${parts.length > 1 ? `, together ${total.toFixed(3)}` : ""} (1 agent over HTTP)`,
  };
}
