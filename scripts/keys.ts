/**
 * `npm run keys -- <command>`: manage API keys stored (hashed) in the database.
 *
 *   create --agent ID [--scope agent|admin] [--trust 0-4] [--label TEXT] [--expires 30d|DATE]
 *                                                                          prints the new key once
 *   revoke ID_OR_PREFIX                                                    revokes by key id or by its prefix
 *   list                                                                   id, prefix, agent, scope, trust, state
 *
 * With DATABASE_URL it opens that Postgres. Without it, the local PGlite data directory: directly when no process
 * holds it, else through the `npm start` that does (its admin API: POST/GET/DELETE /keys), found by the server.json
 * it writes next to the lock and authenticated with the first of COORDINATION_ADMIN_KEYS or the dev key.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { migrate } from "./host/migrate.ts";
import { loadConfig, NODE_DEFAULTS, type Config } from "../functions-src/config.ts";
import { AGENT_ID_PATTERN } from "../functions-src/identity/agent-id.ts";
import { openDatabase } from "./host/open-db.ts";
import { runningServer } from "./host/running-server.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../functions-src/identity/keys.ts";

const USAGE =
  "usage: npm run keys -- create --agent ID [--scope agent|admin] [--trust 0-4] [--label TEXT] [--expires 30d] | " +
  "revoke ID_OR_PREFIX | list";

interface Spec {
  agent_id: string;
  scope: "agent" | "admin";
  trust_level: number;
  label?: string;
  expires_at?: string;
}
type Created = { id: string; key: string; key_prefix: string };

/** The three things the script does, against the database or against the server that holds it. */
interface KeyStore {
  where: string;
  create(spec: Spec): Promise<Created>;
  revoke(idOrPrefix: string): Promise<number>;
  list(): Promise<unknown[]>;
  close(): Promise<void>;
}

const LIST_MAX = 1000;

async function databaseStore(config: Config): Promise<KeyStore> {
  const { db, location } = await openDatabase(config.database);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    where: location,
    create: (spec) => createApiKey(db, spec),
    revoke: async (id) => (await revokeApiKey(db, id)).revoked,
    list: () => listApiKeys(db, LIST_MAX),
    close: () => db.close(),
  };
}

/** The admin key the script presents to the local server: the first configured admin key, else the dev key. */
async function adminKey(config: Config, dataDir: string): Promise<string> {
  const configured = config.apiKeys.find((k) => k.scope === "admin");
  if (configured) return configured.key;
  const file = join(dataDir, "dev-key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    throw new Error(`no admin key: set COORDINATION_ADMIN_KEYS to one the server accepts (there is no ${file})`);
  }
}

function serverStore(url: string, key: string): KeyStore {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${key}`,
          "X-Agent-Id": "keys-cli",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`the server at ${url} did not answer (${(err as Error).message}); is it still running?`);
    }
    const answer = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok) {
      const reason = answer?.error ? `${answer.error.code}: ${answer.error.message}` : `HTTP ${res.status}`;
      const hint =
        res.status === 401 || res.status === 403
          ? " (the script uses the first of COORDINATION_ADMIN_KEYS, else the data directory's dev-key)"
          : "";
      throw Object.assign(new Error(`the server at ${url} refused: ${reason}${hint}`), { status: res.status });
    }
    return answer as T;
  };
  return {
    where: `the server at ${url}`,
    create: (spec) => call<Created>("POST", "/keys", spec),
    revoke: async (id) => {
      try {
        return (await call<{ revoked: number }>("DELETE", `/keys/${encodeURIComponent(id)}`)).revoked;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return 0;
        throw err;
      }
    },
    list: async () => (await call<{ keys: unknown[] }>("GET", `/keys?limit=${LIST_MAX}`)).keys,
    close: async () => {},
  };
}

/** The database when this process may open it; the running server when `npm start` holds the PGlite directory. */
async function keyStore(config: Config): Promise<KeyStore> {
  if (!config.database.url) {
    const dataDir = resolve(config.database.dataDir);
    const server = await runningServer(dataDir);
    if (server) return serverStore(server.url, await adminKey(config, dataDir));
  }
  return databaseStore(config);
}

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `--expires`: a duration from now (90m, 12h, 30d, 2w) or a future date. */
function parseExpiry(raw: string, now = Date.now()): Date {
  const d = /^(\d{1,6})([mhdw])$/.exec(raw.trim());
  const at = d ? new Date(now + Number(d[1]) * UNIT_SECONDS[d[2]!]! * 1000) : new Date(raw);
  if (Number.isNaN(at.getTime()) || at.getTime() <= now) {
    throw new Error("--expires must be a duration like 90m, 12h, 30d or 2w, or a future ISO date");
  }
  return at;
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      agent: { type: "string" },
      scope: { type: "string", default: "agent" },
      trust: { type: "string", default: "2" },
      label: { type: "string" },
      expires: { type: "string" },
    },
  });
  const [command, arg] = positionals;
  if (!command || !["create", "revoke", "list"].includes(command)) throw new Error(USAGE);
  // Arguments are checked before anything is opened, so a typo never waits on a database.
  let spec: Spec | undefined;
  if (command === "create") {
    const agent = values.agent;
    if (!agent || !AGENT_ID_PATTERN.test(agent)) throw new Error("--agent ID is required (letters, digits, ._:@-)");
    if (values.scope !== "agent" && values.scope !== "admin") throw new Error("--scope must be agent or admin");
    const trust = Number(values.trust);
    if (!Number.isInteger(trust) || trust < 0 || trust > 4) throw new Error("--trust must be an integer 0–4");
    spec = {
      agent_id: agent,
      scope: values.scope,
      trust_level: trust,
      ...(values.label ? { label: values.label } : {}),
      ...(values.expires ? { expires_at: parseExpiry(values.expires).toISOString() } : {}),
    };
  }
  if (command === "revoke" && !arg) throw new Error("revoke needs the key id or its prefix (see `list`)");

  const store = await keyStore(loadConfig(process.env, NODE_DEFAULTS));
  try {
    if (spec) {
      const created = await store.create(spec);
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(
        `created key ${created.id} (prefix ${created.key_prefix}) for ${spec.agent_id}, scope ${spec.scope}, ` +
          `trust ${spec.trust_level}${spec.expires_at ? `, expires ${spec.expires_at}` : ""}, in ${store.where}. ` +
          "It is shown only now: store it in the agent's " +
          "COORDINATION_API_KEY.\n",
      );
    } else if (command === "revoke") {
      const revoked = await store.revoke(arg!);
      if (revoked === 0) throw new Error(`no active key has id or prefix ${arg}`);
      process.stderr.write(`revoked ${revoked} key(s) in ${store.where}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(await store.list(), null, 2)}\n`);
    }
  } finally {
    await store.close();
  }
}

main().catch((err) => {
  process.stderr.write(`keys: ${(err as Error).message}\n`);
  process.exit(1);
});
