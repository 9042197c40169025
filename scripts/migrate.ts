/**
 * `npm run migrate`: applies supabase/migrations and the seed to DATABASE_URL (or the local PGlite data
 * directory). For Supabase, `supabase db push` does the same from the same files.
 */
import { migrate } from "./host/migrate.ts";
import { loadConfig, NODE_DEFAULTS } from "../functions-src/config.ts";
import { openDatabase } from "./host/open-db.ts";

// A migration may run long statements on a large database: no statement timeout here.
const { db, location } = await openDatabase({
  ...loadConfig(process.env, NODE_DEFAULTS).database,
  statementTimeoutMs: 0,
});
try {
  const r = await migrate(db);
  process.stderr.write(
    `${location}: ${r.applied.length ? `applied ${r.applied.join(", ")}` : "up to date"}; schema ${r.schemaVersion}\n`,
  );
} catch (err) {
  process.stderr.write(`migrate: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
