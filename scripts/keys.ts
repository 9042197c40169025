/**
 * `npm run keys -- <command>`: manage API keys stored (hashed) in the database.
 *
 *   create --agent ID [--scope agent|admin] [--trust 0-4] [--label TEXT] [--expires 30d]   prints the new key once
 *   revoke ID_OR_PREFIX                                                    revokes by key id or by its prefix
 *   list                                                                   id, prefix, agent, scope, trust, state
 *
 * Uses DATABASE_URL when set, else the local PGlite data directory (stop `npm start` first: PGlite is single-process).
 */
import { parseArgs } from "node:util";
import { callJson } from "../functions-src/db/port.ts";
import { keyRefusals } from "../functions-src/identity/refusals.ts";
import { callOp } from "../functions-src/ops/call.ts";
import { migrate } from "./host/migrate.ts";
import { loadConfig, NODE_DEFAULTS } from "../functions-src/config.ts";
import { AGENT_ID_PATTERN } from "../functions-src/identity/agent-id.ts";
import { openDatabase } from "./host/open-db.ts";
import { generateApiKey, keyPrefix } from "./host/api-keys.ts";
import { sha256Bytes, toHex } from "../functions-src/util/bytes.ts";

const USAGE =
  "usage: npm run keys -- create --agent ID [--scope agent|admin] [--trust 0-4] [--label TEXT] [--expires 30d] | " +
  "revoke ID_OR_PREFIX | list";

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `--expires`: a duration (90m, 12h, 30d, 2w) from now, or an ISO date in the future. */
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

  const { db } = await openDatabase(loadConfig(process.env, NODE_DEFAULTS).database);
  try {
    await migrate(db);
    if (command === "create") {
      const agent = values.agent;
      if (!agent || !AGENT_ID_PATTERN.test(agent)) throw new Error("--agent ID is required (letters, digits, ._:@-)");
      if (values.scope !== "agent" && values.scope !== "admin") throw new Error("--scope must be agent or admin");
      const trust = Number(values.trust);
      if (!Number.isInteger(trust) || trust < 0 || trust > 4) throw new Error("--trust must be an integer 0–4");
      const expires = values.expires === undefined ? null : parseExpiry(values.expires);
      const key = generateApiKey();
      const created = await callOp<{ id: string }>(
        db,
        "coord.create_api_key",
        [
          toHex(await sha256Bytes(key)),
          keyPrefix(key),
          agent,
          values.scope,
          trust,
          values.label ?? null,
          expires?.toISOString() ?? null,
        ],
        keyRefusals,
      );
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `created key ${created.id} (prefix ${keyPrefix(key)}) for ${agent}, scope ${values.scope}, trust ${trust}` +
          `${expires ? `, expires ${expires.toISOString()}` : ""}. ` +
          "It is shown only now: store it in the agent's COORDINATION_API_KEY.\n",
      );
    } else if (command === "revoke") {
      if (!arg) throw new Error("revoke needs the key id or its prefix (see `list`)");
      const r = await callJson<{ revoked: number }>(db, "coord.revoke_api_key", [arg]);
      if (r.revoked === 0) throw new Error(`no active key has id or prefix ${arg}`);
      process.stderr.write(`revoked ${r.revoked} key(s)\n`);
    } else {
      const rows = await db.query(
        "select id, key_prefix, agent_id, scope, trust_level, label, created_at, last_used_at, expires_at, " +
          "revoked_at is not null as revoked, coalesce(expires_at <= now(), false) as expired " +
          "from coord.api_keys order by created_at",
      );
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  process.stderr.write(`keys: ${(err as Error).message}\n`);
  process.exit(1);
});
