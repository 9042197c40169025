import { httpClient, row, runLoad, startServer, benchDatabase, type BenchContext, type BenchRow } from "./harness.ts";

/** /health requests per second on each database (the floor of every other route: routing, middleware, one query). */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const duration = 3000 * ctx.scale;
  const targets: Array<"postgres" | "pglite"> = ctx.adminUrl ? ["postgres", "pglite"] : ["pglite"];
  for (const kind of targets) {
    const database = kind === "postgres" ? await benchDatabase(ctx.adminUrl!) : undefined;
    const server = await startServer(kind, database?.url);
    const client = httpClient(server.url);
    try {
      const r = await runLoad(32, () => client.call("GET", "/health"), { durationMs: duration });
      rows.push(row("GET /health", "http", kind, 32, r));
    } finally {
      client.close();
      await server.stop();
      await database?.drop();
    }
  }
  return rows;
}
