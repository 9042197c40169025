import type { MiddlewareHandler } from "hono";
import type { EnvKey } from "../config.ts";
import { quotaError } from "../ops/quotas.ts";
import { callOp, callOutcome } from "../ops/call.ts";
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
  bound: boolean;
  key: string;
  /** Notices waiting for the caller's session (coord.record_presence). */
  notices?: number;
}

/** What a caller claims besides its key: the identity headers (or, for a dashboard session, what it recorded). */
export interface Claimed {
  agentId: string | null;
  agentType: string | null;
  sessionId: string | null;
}

/** A resolved caller, and how many lost-lock/claim notices wait for its session. */
export interface Resolved {
  identity: Identity;
  notices: number;
}

// Digests of the keys presented lately, at most this many (then forgotten all at once).
const DIGEST_CACHE = 1000;

/**
 * SHA-256 of a presented key, remembered for the keys presented lately: WebCrypto's digest is asynchronous and cost
 * about a fifth of the server's busy CPU per request under load (measured with --cpu-prof on the lock path), while a
 * fleet presents a handful of keys. Remembering a digest reveals nothing a request did not already carry.
 */
function recentDigests(): (key: string) => Promise<Uint8Array> {
  const known = new Map<string, Uint8Array>();
  return async (key) => {
    const hit = known.get(key);
    if (hit) return hit;
    const digest = await sha256Bytes(key);
    if (known.size >= DIGEST_CACHE) known.clear();
    known.set(key, digest);
    return digest;
  };
}

/**
 * Resolves a key, by its SHA-256 digest, to an identity: keys from the environment in memory (constant time), keys
 * from the database with one call that also records the agent. Refuses (401/403/400) like the API does. Built once
 * per app; the API-key middleware and the dashboard's cookie sessions both use it. Records presence (a sign of life
 * for a heartbeating session) on the way; `always` asks for the session's notices even between presence writes.
 *
 * Reserved ids: an id bound to a key — an environment entry `KEY:AGENT_ID` or an active database key — is that
 * key's alone. An unbound key (`KEY`) may act as any other id. Environment bindings are checked in memory; database
 * bindings by coord.admit_agent, whose answer this process keeps for TOUCH_INTERVAL_MS (so a new database key
 * reserves its id within that time on every process).
 */
export function keyResolver(
  deps: AppDeps,
): (digest: Uint8Array, claimed: Claimed, always?: boolean) => Promise<Resolved> {
  // Digests of the configured keys, computed once.
  const envKeys: Promise<Array<EnvKey & { digest: Uint8Array; name: string }>> = Promise.all(
    deps.config.apiKeys.map(async (k) => {
      const digest = await sha256Bytes(k.key);
      return { ...k, digest, name: `env:${toHex(digest).slice(0, 8)}` };
    }),
  );
  const envBound = new Set(deps.config.apiKeys.flatMap((k) => (k.agentId ? [k.agentId] : [])));
  const lastTouch = new Map<string, number>();
  const admitted = new Map<string, { at: number; reserved: boolean }>();
  const touchInterval = Math.min(TOUCH_INTERVAL_MS, deps.config.sessionTimeoutSeconds * 250);
  const touchMark = (i: Identity) => `${i.agentId}\u0000${i.sessionId ?? ""}\u0000${i.agentType}`;

  /**
   * Presence, a sign of life for a heartbeating session, and how many lost-lock/claim notices wait for it. MCP
   * requests of a session always ask (their tool answers carry the notices); SQL writes at most every 5 s anyway, so
   * the call is a read unless something changed.
   */
  async function touch(identity: Identity, always: boolean): Promise<number> {
    const mark = touchMark(identity);
    const now = Date.now();
    if (!always && (lastTouch.get(mark) ?? 0) > now - touchInterval) return 0;
    if (lastTouch.size > 10_000) lastTouch.clear();
    lastTouch.set(mark, now);
    const [row] = await deps.db.query<{ n: number }>("select coord.record_presence($1, $2, $3) as n", [
      identity.agentId,
      identity.agentType,
      identity.sessionId,
    ]);
    return row?.n ?? 0;
  }

  /**
   * Admits an unbound key's caller as its agent id unless a database key reserves that id, recording presence (and
   * counting notices) in the same call; between checks, presence alone.
   */
  async function admit(identity: Identity, always: boolean): Promise<number> {
    const now = Date.now();
    const known = admitted.get(identity.agentId);
    if (known && known.at > now - TOUCH_INTERVAL_MS) {
      if (known.reserved) throw reserved(identity.agentId);
      return touch(identity, always);
    }
    const { result, refusal } = await callOutcome<{ notices: number }>(deps.db, "coord.admit_agent", [
      identity.agentId,
      identity.agentType,
      identity.sessionId,
    ]);
    if (admitted.size > 10_000) admitted.clear();
    admitted.set(identity.agentId, { at: now, reserved: refusal?.code === "agent_id_reserved" });
    if (refusal) throw reserved(identity.agentId);
    lastTouch.set(touchMark(identity), now);
    return result.notices;
  }

  return async (digest, { agentId: agentHeader, agentType: typeHeader, sessionId }, always = false) => {
    // Check every configured key, without stopping at a match, so timing does not tell which entry matched.
    let match: (EnvKey & { name: string }) | null = null;
    for (const k of await envKeys) if (constantTimeEqual(digest, k.digest) && !match) match = k;

    let identity: Identity;
    let notices = 0;
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
      identity = {
        agentId,
        agentType: typeHeader ?? "unknown",
        sessionId,
        scope: match.scope,
        trustLevel: DEFAULT_TRUST,
        bound: match.agentId !== null,
        key: match.name,
      };
      if (match.scope === "admin" || match.agentId) {
        notices = await touch(identity, always);
      } else {
        if (envBound.has(agentId)) throw reserved(agentId);
        notices = await admit(identity, always);
      }
    } else {
      const r = await callOp<DbIdentity>(
        deps.db,
        "coord.authenticate",
        [toHex(digest), agentHeader, typeHeader, sessionId],
        keyRefusals,
      );
      identity = {
        agentId: r.agent_id,
        agentType: typeHeader ?? "unknown",
        sessionId,
        scope: r.scope,
        trustLevel: r.trust_level,
        bound: r.bound,
        key: r.key,
      };
      notices = r.notices ?? 0;
    }
    return { identity, notices };
  };
}

/**
 * Authenticates every request: an API key (Bearer or X-API-Key) and the identity headers X-Agent-Id, X-Agent-Type,
 * X-Session-Id (keyResolver). Keeps how many lost-lock/claim notices wait for the session (`pendingNotices`) and
 * counts the request against the agent's rate (admins exempt).
 */
export function authenticate(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const resolve = keyResolver(deps);
  const digestOf = recentDigests();
  return async (c, next) => {
    const key = presentedKey(c);
    if (!key) {
      throw new ApiError(
        401,
        "missing_key",
        "No API key: send Authorization: Bearer <key> (or X-API-Key). `npm run keys -- create` makes one.",
      );
    }
    const claimed: Claimed = {
      agentId: header(c, "x-agent-id", ID, "agent id"),
      agentType: header(c, "x-agent-type", TYPE, "agent type"),
      sessionId: header(c, "x-session-id", ID, "session id"),
    };
    // MCP requests of a session carry the session's notices in their tool answers: they always ask for them.
    const always = claimed.sessionId !== null && c.req.path.endsWith("/mcp");
    const { identity, notices } = await resolve(await digestOf(key), claimed, always);
    c.set("identity", identity);
    c.set("pendingNotices", notices);
    if (identity.scope !== "admin") {
      const wait = deps.rates.requests.take(identity.agentId);
      if (wait > 0) {
        throw quotaError(
          "requests_per_minute",
          `Over the request rate: at most ${deps.rates.requests.perMinute} requests a minute per agent ` +
            `(${identity.agentId}); retry in ${wait} s.`,
          wait,
          { max: deps.rates.requests.perMinute },
        );
      }
    }
    await next();
  };
}

function reserved(agentId: string): ApiError {
  return new ApiError(
    403,
    "agent_id_reserved",
    `Agent id ${agentId} is bound to another key and reserved for it; use that key, or pick another X-Agent-Id.`,
    { agent_id: agentId },
  );
}
