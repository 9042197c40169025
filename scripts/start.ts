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
import { generateApiKey } from "../functions-src/identity/keys.ts";
import { createLogger } from "../functions-src/http/log.ts";
import { preloadMcp } from "../functions-src/mcp/route.ts";
import { runMaintenance } from "./host/maintenance.ts";
import { announceServer, localUrl } from "./host/running-server.ts";

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
  if (config.apiKeys.length > 0) {
    keyHint = `keys: ${config.apiKeys.length} from COORDINATION_API_KEYS/COORDINATION_ADMIN_KEYS, ${dbKeys} in the database (npm run keys -- create --agent ID)`;
  } else if (db.kind === "pglite") {
    // The local operator's key. It stays in force when database keys exist: `npm run keys` uses it to make and
    // revoke the agents' keys through this server, which holds the data directory.
    const key = await devKey(location);
    config.apiKeys.push({ key, agentId: null, scope: "admin" });
    keyHint =
      `dev key (any agent, admin; stored in ${join(location, "dev-key")}):\n  ${key}\n` +
      `  ${dbKeys} agent key(s) in the database; give each agent its own: npm run keys -- create --agent ID`;
  } else if (dbKeys > 0) {
    keyHint = `keys: ${dbKeys} in the database (npm run keys -- create --agent ID)`;
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
  // On PGlite, scripts (`npm run keys`) cannot open the data directory while this process holds it: they find this
  // server through server.json next to the lock and go through its API instead.
  let unannounce: (() => Promise<void>) | undefined;
  const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
    const url = localUrl(hostname, info.port);
    say(`Agent Coordinator listening on ${url}`);
    say(
      `  database: ${db.kind} at ${location} (schema ${schemaVersion}${applied.length ? `, applied ${applied.length} migration(s)` : ""})`,
    );
    say(`  ${keyHint}`);
    say(`  MCP: ${url}/mcp — local agents connect with \`npx mcp-bridge\` (see README)`);
    // The MCP SDK loads on first use (edge starts serve REST without it); here it loads now, off the first request.
    void preloadMcp();
    if (db.kind === "pglite") {
      void announceServer(location, url).then(
        (remove) => (unannounce = remove),
        (err) => log.warn("could not write server.json", { error: (err as Error).message }),
      );
    }
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
    await unannounce?.();
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
