/**
 * The edge host: the same app as `npm start`, served by Deno (Supabase Edge Functions, or `npm run edge` locally).
 * Supabase serves it under /coordinator; the app answers there and at the root. Migrations are applied by
 * `supabase db push` (or `npm run migrate`), never from here: an edge instance starts too often for that.
 */
import { createApp } from "../../../functions-src/app.ts";
import { ConfigError, EDGE_DEFAULTS, loadConfig } from "../../../functions-src/config.ts";
import { createPostgresDb } from "../../../functions-src/db/postgres.ts";
import { createLogger } from "../../../functions-src/http/log.ts";

try {
  const config = loadConfig(Deno.env.toObject(), EDGE_DEFAULTS);
  const { url, poolSize, prepare, connectTimeoutSeconds, statementTimeoutMs } = config.database;
  if (!url) throw new ConfigError("set SUPABASE_DB_URL (on Supabase it is provided) or DATABASE_URL");
  const log = createLogger(config.logLevel);
  if (config.apiKeys.length === 0)
    log.warn("no COORDINATION_API_KEYS set: only keys stored in the database are accepted");
  const db = createPostgresDb(url, {
    prepare,
    max: poolSize,
    connectTimeout: connectTimeoutSeconds,
    statementTimeoutMs,
  });
  const app = createApp({ db, config, log });
  // Supabase announces a worker's end (wall clock, CPU, memory) with beforeunload: open event streams end cleanly
  // then, so their clients reconnect with Last-Event-ID at once instead of after a broken connection.
  addEventListener("beforeunload", () => void app.close());
  Deno.serve(
    { port: config.port, hostname: config.hostname, onListen: ({ port }) => log.info("listening", { port }) },
    app.fetch,
  );
} catch (err) {
  console.error(
    err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${(err as Error).message}`,
  );
  Deno.exit(1);
}
