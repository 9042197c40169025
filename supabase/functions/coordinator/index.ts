/**
 * The edge host: the same app as `npm start`, served by Deno (Supabase Edge Functions, or `deno task serve`).
 * Supabase serves it under /coordinator; the app answers there and at the root. Migrations are applied by
 * `supabase db push` (or `npm run migrate`), never from here: an edge instance starts too often for that.
 */
import { createApp } from "../../../functions-src/app.ts";
import { ConfigError, loadConfig } from "../../../functions-src/config.ts";
import { createPostgresDb } from "../../../functions-src/db/postgres.ts";
import { createLogger } from "../../../functions-src/http/log.ts";

const env = Deno.env.toObject();
const supabaseUrl = env.SUPABASE_DB_URL;
const url = supabaseUrl ?? env.DATABASE_URL;

try {
  if (!url) throw new ConfigError("set SUPABASE_DB_URL (on Supabase it is provided) or DATABASE_URL");
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  if (config.apiKeys.length === 0)
    log.warn("no COORDINATION_API_KEYS set: only keys stored in the database are accepted");
  // Supabase's pooler (transaction mode) cannot keep prepared statements; a direct connection can.
  const db = createPostgresDb(url, {
    prepare: !supabaseUrl && env.DATABASE_PREPARE !== "false",
    max: Number(env.DATABASE_POOL_SIZE ?? 5),
  });
  const app = createApp({ db, config, log, env });
  const port = Number(env.PORT ?? 8000);
  Deno.serve(
    { port, hostname: env.HOST ?? "127.0.0.1", onListen: ({ port }) => log.info("listening", { port }) },
    app.fetch,
  );
} catch (err) {
  console.error(
    err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${(err as Error).message}`,
  );
  Deno.exit(1);
}
