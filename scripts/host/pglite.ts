import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { vector } from "@electric-sql/pglite-pgvector";
import type { Db, NotificationHandler, Queryable } from "../../functions-src/db/port.ts";

export interface PgliteOptions {
  /** Directory to persist to; omit for an in-memory database (tests). */
  dataDir?: string;
  /** A data directory dump to start from (tests clone one migrated template instead of migrating each time). */
  loadDataDir?: Blob | File;
}

/**
 * The embedded adapter: Postgres in WASM, one connection, queries serialised. It is what `npm start` uses
 * when no DATABASE_URL is set, so the product runs on a laptop with no database server.
 */
export async function createPgliteDb(options: PgliteOptions = {}): Promise<Db & { pglite: PGlite }> {
  // Extensions are loadable here; migrations still `create extension` them (pgvector only where available).
  const pg = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    extensions: { pg_trgm, vector },
  });

  const wrap = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await q.query<T>(text, params)).rows;
    },
    async exec(text: string) {
      await q.exec(text);
    },
  });

  let closed = false;
  return {
    kind: "pglite",
    pglite: pg,
    ...wrap(pg),
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async listen(channel: string, handler: NotificationHandler) {
      return pg.listen(channel, handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      // PGlite's files are not crash-safe: flush everything before closing.
      if (options.dataDir) await pg.exec("checkpoint");
      await pg.close();
    },
  };
}
