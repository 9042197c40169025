/**
 * `npm start`: the Node host. Serves the app on 127.0.0.1:${PORT:-8787}, backed by the embedded PGlite in
 * ./.coordinator (or COORDINATOR_DATA_DIR), or by Postgres when DATABASE_URL is set. Applies migrations and the
 * seed on start. Never silently open: with no key configured in local mode it makes a dev key and prints it.
 */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createApp } from "../functions-src/app.ts";
import { ConfigError, loadConfig, NODE_DEFAULTS } from "../functions-src/config.ts";
import { migrate } from "./host/migrate.ts";
import { openDatabase } from "./host/open-db.ts";
import { generateApiKey } from "./host/api-keys.ts";
import { createLogger } from "../functions-src/http/log.ts";
import { runMaintenance } from "./host/maintenance.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

async function devKey(dataDir: string): Promise<string> {
  const file = join(dataDir, "dev-key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const key = generateApiKey();
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return key;
  }
}

async function main() {
  const config = loadConfig(process.env, NODE_DEFAULTS);
  const log = createLogger(config.logLevel);
  const { port, hostname } = config;

  const { db, location } = await openDatabase(config.database);
  const { applied, schemaVersion } = await migrate(db);

  let keyHint: string;
  const [row] = await db.query<{ n: number }>("select count(*)::int as n from coord.api_keys where revoked_at is null");
  const dbKeys = row?.n ?? 0;
  if (config.apiKeys.length > 0 || dbKeys > 0) {
    keyHint = `keys: ${config.apiKeys.length} from COORDINATION_API_KEYS/COORDINATION_ADMIN_KEYS, ${dbKeys} in the database (npm run keys -- create --agent ID)`;
  } else if (db.kind === "pglite") {
    const key = await devKey(location);
    config.apiKeys.push({ key, agentId: null, scope: "admin" });
    keyHint = `dev key (any agent, admin; stored in ${join(location, "dev-key")}):\n  ${key}`;
  } else {
    keyHint =
      "no API keys configured: every call will be refused (401). Set COORDINATION_API_KEYS or run `npm run keys -- create --agent ID`.";
  }

  const app = createApp({ db, config, log });

  // Upkeep (expired locks, lost leases, memory retention) on a timer: a laptop has no pg_cron.
  const minutes = config.maintenanceMinutes;
  const maintain = () => runMaintenance(app).then((report) => log.info("maintenance", report));
  const maintenance = minutes > 0 ? setInterval(() => void maintain(), minutes * 60_000) : undefined;
  maintenance?.unref();
  void maintain();
  const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
    say(`Agent Coordinator listening on http://${hostname === "0.0.0.0" ? "127.0.0.1" : hostname}:${info.port}`);
    say(
      `  database: ${db.kind} at ${location} (schema ${schemaVersion}${applied.length ? `, applied ${applied.length} migration(s)` : ""})`,
    );
    say(`  ${keyHint}`);
    say(`  MCP: http://${hostname}:${info.port}/mcp — local agents connect with \`npx mcp-bridge\` (see README)`);
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    say(`${signal}: closing`);
    clearInterval(maintenance);
    // Open event streams end first (clients resume elsewhere with Last-Event-ID); then the server can close.
    await app.close();
    server.close();
    await db.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  say(
    err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${(err as Error).message}`,
  );
  process.exit(1);
});
