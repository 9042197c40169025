import { callJson } from "../../functions-src/db/port.ts";
import {
  benchDatabase,
  benchHeaders,
  httpClient,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
} from "./harness.ts";
import { dbTimePerCall, dbTimeRow } from "./db-time.ts";
import { references } from "./references.ts";

const NAME = "lock acquire+release";
const LEVELS = [1, 8, 32, 64];

/** Lock requests per second (two per pair) against the echo's requests per second at the same concurrency. */
function vsEcho(pairsPerSecond: number, concurrency: number): number | undefined {
  const echo = references.echo.get(concurrency);
  return echo ? (2 * pairsPerSecond) / echo : undefined;
}

/**
 * Acquire then release one key per agent (each agent its own file, so the numbers measure the lock path, not
 * contention): over HTTP on the Node host, and as the same two SQL function calls through postgres.js. Throughput is
 * in pairs/s; "vs ref" compares the HTTP row's requests/s (2 per pair) with the bare Hono echo at the same
 * concurrency. At 32 agents a second server with COORDINATOR_GROUP_COMMIT=off shows what group commit buys, and
 * pg_stat_statements (when the server preloads it) gives the database time of each function call.
 */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const durationMs = 3000 * ctx.scale;
  const key = (w: number) => `bench/agent-${w}/file.ts`;
  const pair = (client: ReturnType<typeof httpClient>, prefix: string) => async (w: number) => {
    const h = benchHeaders(`${prefix}-${w}`);
    const a = await client.call("POST", "/locks/acquire", { file_path: key(w) }, h);
    if (a.status !== 200) throw new Error(`acquire answered ${a.status}`);
    const r = await client.call("POST", "/locks/release", { file_path: key(w) }, h);
    if (r.status !== 200) throw new Error(`release answered ${r.status}`);
  };

  if (ctx.adminUrl) {
    const database = await benchDatabase(ctx.adminUrl);
    const server = await startServer("postgres", database.url);
    const client = httpClient(server.url);
    try {
      for (const c of LEVELS) {
        const sql = await runLoad(
          c,
          async (w) => {
            const a = await callJson<{ error?: { code: string } }>(database.db, "coord.acquire_locks", [
              "default",
              `sql-${w}`,
              null,
              [key(w)],
              null,
              600,
            ]);
            if (a.error) throw new Error(`sql acquire refused: ${a.error.code}`);
            await callJson(database.db, "coord.release_locks", ["default", `sql-${w}`, [key(w)], false]);
          },
          { durationMs },
        );
        const http = await runLoad(c, pair(client, "http"), { durationMs });
        rows.push(row(NAME, "sql", "postgres", c, sql, { note: "pairs/s; 2 calls, postgres.js" }));
        rows.push(
          row(NAME, "http", "postgres", c, http, {
            ratio: http.throughput / sql.throughput,
            vsRef: vsEcho(http.throughput, c),
            note: "pairs/s; vs ref: requests/s ÷ bare echo's",
          }),
        );
      }
      // The database's own time per call, one agent at a time (no queueing in it), from pg_stat_statements.
      const time = await dbTimePerCall(database.db, ["coord.acquire_locks", "coord.release_locks"], () =>
        runLoad(1, pair(client, "dbtime"), { durationMs }),
      );
      if (time) rows.push(dbTimeRow("lock db time per call (pg_stat_statements)", time));
    } finally {
      client.close();
      await server.stop();
    }
    // The group-commit lever: the same load at 32 agents with every call sent alone.
    const alone = await startServer("postgres", database.url, { COORDINATOR_GROUP_COMMIT: "off" });
    const aloneClient = httpClient(alone.url);
    try {
      const r = await runLoad(32, pair(aloneClient, "alone"), { durationMs });
      rows.push(
        row(NAME, "http", "postgres", 32, r, {
          vsRef: vsEcho(r.throughput, 32),
          note: "pairs/s; COORDINATOR_GROUP_COMMIT=off (every call alone)",
        }),
      );
    } finally {
      aloneClient.close();
      await alone.stop();
      await database.drop();
    }
  }

  const server = await startServer("pglite");
  const client = httpClient(server.url);
  try {
    const r = await runLoad(8, pair(client, "pg"), { durationMs });
    rows.push(row(NAME, "http", "pglite", 8, r, { vsRef: vsEcho(r.throughput, 8), note: "pairs/s; embedded default" }));
  } finally {
    client.close();
    await server.stop();
  }
  return rows;
}
