/**
 * Dashboard sessions: a person signs in with an API key once; the page then holds a random token in an HttpOnly,
 * SameSite=Strict cookie (Secure under https). The database keeps only digests — of the token, and of the key,
 * which is checked again on every request through the same resolver as API calls, so a revoked or removed key ends
 * the session at once. Every write from the page carries a CSRF token derived from the session token, and an
 * Origin, when the browser sends one, must be the page's own.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { callOp } from "../ops/call.ts";
import { ApiError } from "../http/errors.ts";
import { type Claimed, keyResolver } from "../identity/auth.ts";
import type { AppDeps, AppEnv, Identity } from "../types.ts";
import { constantTimeEqual, encodeBase64Url, fromHex, sha256Bytes, toHex } from "../util/bytes.ts";
import { dashboardRefusals } from "./refusals.ts";

export const COOKIE = "coord_dashboard";
/** How long a dashboard session lasts. */
export const SESSION_HOURS = 12;
/** The agent type a dashboard session acts with (recorded with the agent, so people are told apart from agents). */
export const DASHBOARD_AGENT_TYPE = "dashboard";

interface StoredSession {
  key_hash: string;
  agent_id: string;
  expires_at: string;
}

/** The CSRF token of a session: derived from its secret token, so it needs no storage and cannot be guessed. */
async function csrfOf(token: string): Promise<string> {
  return encodeBase64Url(await sha256Bytes(`csrf:${token}`));
}

function secure(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/**
 * The cookie carries no Path: browsers then scope it to the directory of the sign-in URL (…/dashboard/api), which
 * is right whether the app is served at the root or under Supabase's /functions/v1/coordinator prefix.
 */
function cookieHeader(c: Context, value: string, maxAge: number): string {
  return `${COOKIE}=${value}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure(c) ? "; Secure" : ""}`;
}

/** Refuses a write whose Origin is another site's (the cookie is SameSite=Strict too; this is the second lock). */
export function sameOrigin(c: Context): void {
  const origin = c.req.header("origin");
  if (!origin) return;
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost.toLowerCase() !== host.toLowerCase()) {
    throw new ApiError(403, "origin_not_allowed", "Dashboard writes are accepted from the dashboard's own page only.");
  }
}

export interface DashboardAuth {
  /** Resolves the cookie to the identity it acts as (401 no_session without one). */
  required: MiddlewareHandler<AppEnv>;
  /** `required`, plus the CSRF token on the request (for writes). */
  write: MiddlewareHandler<AppEnv>;
  /** Checks a key like any API call and opens a session; answers what the page needs. */
  signIn(c: Context<AppEnv>, key: string, agentId: string | null): Promise<SessionInfo>;
  signOut(c: Context<AppEnv>): Promise<void>;
  info(c: Context<AppEnv>): Promise<SessionInfo>;
}

export interface SessionInfo {
  agent_id: string;
  scope: "agent" | "admin";
  csrf_token: string;
  expires_at: string;
}

const NO_SESSION = () => dashboardRefusals.no_session();

export function dashboardAuth(deps: AppDeps): DashboardAuth {
  const resolve = keyResolver(deps);

  async function session(c: Context<AppEnv>): Promise<{ token: string; identity: Identity; stored: StoredSession }> {
    const token = getCookie(c, COOKIE);
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw NO_SESSION();
    const stored = await callOp<StoredSession>(
      deps.db,
      "coord.get_dashboard_session",
      [toHex(await sha256Bytes(token))],
      dashboardRefusals,
    );
    const claimed: Claimed = { agentId: stored.agent_id, agentType: DASHBOARD_AGENT_TYPE, sessionId: null };
    let identity: Identity;
    try {
      identity = (await resolve(fromHex(stored.key_hash), claimed)).identity;
    } catch (err) {
      // The key was revoked or removed since sign-in: the session is over.
      if (err instanceof ApiError && err.status < 500) throw NO_SESSION();
      throw err;
    }
    return { token, identity, stored };
  }

  const required: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("identity", (await session(c)).identity);
    await next();
  };

  return {
    required,
    write: async (c, next) => {
      sameOrigin(c);
      const s = await session(c);
      const sent = c.req.header("x-csrf-token") ?? "";
      const expected = await csrfOf(s.token);
      // Digests of both: equal lengths, and a comparison whose time says nothing about the token.
      if (!constantTimeEqual(await sha256Bytes(sent), await sha256Bytes(expected))) {
        throw new ApiError(403, "csrf_failed", "Missing or wrong X-CSRF-Token: reload the dashboard and try again.");
      }
      c.set("identity", s.identity);
      await next();
    },
    async signIn(c, key, agentId) {
      sameOrigin(c);
      const keyDigest = await sha256Bytes(key);
      const { identity } = await resolve(keyDigest, { agentId, agentType: DASHBOARD_AGENT_TYPE, sessionId: null });
      const token = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      const opened = await callOp<{ agent_id: string; expires_at: string }>(
        deps.db,
        "coord.open_dashboard_session",
        [toHex(await sha256Bytes(token)), toHex(keyDigest), identity.agentId, SESSION_HOURS],
        dashboardRefusals,
      );
      c.header("Set-Cookie", cookieHeader(c, token, SESSION_HOURS * 3600));
      return {
        agent_id: identity.agentId,
        scope: identity.scope,
        csrf_token: await csrfOf(token),
        expires_at: opened.expires_at,
      };
    },
    async signOut(c) {
      const token = getCookie(c, COOKIE);
      if (token) {
        await callOp(deps.db, "coord.close_dashboard_session", [toHex(await sha256Bytes(token))], dashboardRefusals);
      }
      c.header("Set-Cookie", cookieHeader(c, "", 0));
    },
    async info(c) {
      const s = await session(c);
      return {
        agent_id: s.identity.agentId,
        scope: s.identity.scope,
        csrf_token: await csrfOf(s.token),
        expires_at: s.stored.expires_at,
      };
    },
  };
}
