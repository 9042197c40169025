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

const NAME = "lock acquire+release";
const LEVELS = [1, 8, 32, 64];

/**
 * Acquire then release one key per agent (each agent its own file, so the numbers measure the lock path, not
 * contention): over HTTP on the Node host, and as the same two SQL function calls through postgres.js.
 */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const durationMs = 3000 * ctx.scale;
  const key = (w: number) => `bench/agent-${w}/file.ts`;

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
        const http = await runLoad(
          c,
          async (w) => {
            const h = benchHeaders(`http-${w}`);
            const a = await client.call("POST", "/locks/acquire", { file_path: key(w) }, h);
            if (a.status !== 200) throw new Error(`acquire answered ${a.status}`);
            const r = await client.call("POST", "/locks/release", { file_path: key(w) }, h);
            if (r.status !== 200) throw new Error(`release answered ${r.status}`);
          },
          { durationMs },
        );
        rows.push(row(NAME, "sql", "postgres", c, sql, { note: "2 calls, postgres.js" }));
        rows.push(
          row(NAME, "http", "postgres", c, http, { ratio: http.throughput / sql.throughput, note: "2 requests" }),
        );
      }
    } finally {
      client.close();
      await server.stop();
      await database.drop();
    }
  }

  const server = await startServer("pglite");
  const client = httpClient(server.url);
  try {
    const r = await runLoad(
      8,
      async (w) => {
        const h = benchHeaders(`pg-${w}`);
        const a = await client.call("POST", "/locks/acquire", { file_path: key(w) }, h);
        if (a.status !== 200) throw new Error(`acquire answered ${a.status}`);
        await client.call("POST", "/locks/release", { file_path: key(w) }, h);
      },
      { durationMs },
    );
    rows.push(row(NAME, "http", "pglite", 8, r, { note: "embedded default" }));
  } finally {
    client.close();
    await server.stop();
  }
  return rows;
}
