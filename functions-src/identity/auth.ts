import type { MiddlewareHandler } from "hono";
import type { EnvKey } from "../config.ts";
import { callOp } from "../ops/call.ts";
import { keyRefusals } from "./refusals.ts";
import { ApiError } from "../http/errors.ts";
import type { AppDeps, AppEnv, Identity } from "../types.ts";
import { constantTimeEqual, sha256Bytes, toHex } from "../util/bytes.ts";
import { AGENT_ID_PATTERN, AGENT_ID_RULE, AGENT_TYPE_PATTERN, AGENT_TYPE_RULE } from "./agent-id.ts";

// Each header's pattern and the rule a refusal states, so the message always matches the check.
const ID = { pattern: AGENT_ID_PATTERN, rule: AGENT_ID_RULE };
const TYPE = { pattern: AGENT_TYPE_PATTERN, rule: AGENT_TYPE_RULE };
const DEFAULT_TRUST = 2;
// Presence is kept to this resolution for keys from the environment, which need no database lookup:
// one write per agent session every few seconds instead of one per request.
const TOUCH_INTERVAL_MS = 5_000;

function header(c: { req: { header(name: string): string | undefined } }, name: string, spec: typeof ID, what: string) {
  const v = c.req.header(name)?.trim();
  if (v === undefined || v === "") return null;
  if (!spec.pattern.test(v)) {
    throw new ApiError(400, "invalid_header", `${name} is not a valid ${what}: use ${spec.rule}`, { field: name });
  }
  return v;
}

function presentedKey(c: { req: { header(name: string): string | undefined } }): string | null {
  const auth = c.req.header("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  return c.req.header("x-api-key")?.trim() || null;
}

/** The identity a database key resolves to. */
interface DbIdentity {
  agent_id: string;
  scope: "agent" | "admin";
  trust_level: number;
}

/** What a caller claims besides its key: the identity headers (or, for a dashboard session, what it recorded). */
export interface Claimed {
  agentId: string | null;
  agentType: string | null;
  sessionId: string | null;
}

/**
 * Resolves a key, by its SHA-256 digest, to an identity: keys from the environment in memory (constant time), keys
 * from the database with one call that also records the agent. Refuses (401/403/400) like the API does. Built once
 * per app; the API-key middleware and the dashboard's cookie sessions both use it.
 */
export function keyResolver(deps: AppDeps): (digest: Uint8Array, claimed: Claimed) => Promise<Identity> {
  // Digests of the configured keys, computed once.
  const envKeys: Promise<Array<EnvKey & { digest: Uint8Array }>> = Promise.all(
    deps.config.apiKeys.map(async (k) => ({ ...k, digest: await sha256Bytes(k.key) })),
  );
  const lastTouch = new Map<string, number>();

  async function touch(identity: Identity) {
    const mark = `${identity.agentId}\u0000${identity.sessionId ?? ""}\u0000${identity.agentType}`;
    const now = Date.now();
    if ((lastTouch.get(mark) ?? 0) > now - TOUCH_INTERVAL_MS) return;
    if (lastTouch.size > 10_000) lastTouch.clear();
    lastTouch.set(mark, now);
    await deps.db.query("select coord.touch_agent($1, $2, $3)", [
      identity.agentId,
      identity.agentType,
      identity.sessionId,
    ]);
  }

  return async (digest, { agentId: agentHeader, agentType: typeHeader, sessionId }) => {
    // Check every configured key, without stopping at a match, so timing does not tell which entry matched.
    let match: EnvKey | null = null;
    for (const k of await envKeys) if (constantTimeEqual(digest, k.digest) && !match) match = k;

    if (match) {
      if (match.agentId && agentHeader && agentHeader !== match.agentId) {
        throw new ApiError(
          403,
          "key_bound_to_other_agent",
          `This key is bound to agent ${match.agentId}; it cannot act as ${agentHeader}.`,
        );
      }
      const agentId = agentHeader ?? match.agentId;
      if (!agentId)
        throw new ApiError(400, "missing_agent_id", "Send X-Agent-Id: this key may act as any agent, so name one.");
      const identity: Identity = {
        agentId,
        agentType: typeHeader ?? "unknown",
        sessionId,
        scope: match.scope,
        trustLevel: DEFAULT_TRUST,
      };
      await touch(identity);
      return identity;
    }
    const r = await callOp<DbIdentity>(
      deps.db,
      "coord.authenticate",
      [toHex(digest), agentHeader, typeHeader, sessionId],
      keyRefusals,
    );
    return {
      agentId: r.agent_id,
      agentType: typeHeader ?? "unknown",
      sessionId,
      scope: r.scope,
      trustLevel: r.trust_level,
    };
  };
}

/**
 * Authenticates every request: an API key (Bearer or X-API-Key) from COORDINATION_API_KEYS or from the
 * database, and the identity headers X-Agent-Id, X-Agent-Type, X-Session-Id. 401 without a valid key, 403
 * when the key is bound to another agent. Records the agent and session (presence) on the way.
 */
export function authenticate(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const resolve = keyResolver(deps);
  return async (c, next) => {
    const key = presentedKey(c);
    if (!key) {
      throw new ApiError(
        401,
        "missing_key",
        "No API key: send Authorization: Bearer <key> (or X-API-Key). `npm run keys -- create` makes one.",
      );
    }
    const claimed = {
      agentId: header(c, "x-agent-id", ID, "agent id"),
      agentType: header(c, "x-agent-type", TYPE, "agent type"),
      sessionId: header(c, "x-session-id", ID, "session id"),
    };
    c.set("identity", await resolve(await sha256Bytes(key), claimed));
    await next();
  };
}
