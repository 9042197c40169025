import type { AppConfig } from "./config.ts";
import type { Db } from "./db/port.ts";
import type { Logger } from "./http/log.ts";

/** Who is calling: resolved from the API key and the identity headers by the auth middleware. */
export interface Identity {
  agentId: string;
  agentType: string;
  sessionId: string | null;
  /** `admin` may act as any agent and perform operator actions (force-release, approvals). */
  scope: "agent" | "admin";
  /** 0–4, from a database key; keys from the environment carry the default, 2. */
  trustLevel: number;
}

/** What the app is built from. Hosts construct these; tests pass their own. */
export interface AppDeps {
  db: Db;
  config: AppConfig;
  log: Logger;
  /**
   * The host's environment (process.env, Deno.env), for capabilities with settings of their own — the gateway's
   * GitHub App, webhook secrets, sandbox key. Tests pass their own record.
   */
  env: Readonly<Record<string, string | undefined>>;
}

/** What an operation runs with: the app's dependencies and the caller. */
export interface OpContext extends AppDeps {
  identity: Identity;
  requestId?: string;
}

/** Hono's environment type for this app. */
export interface AppEnv {
  Variables: {
    requestId: string;
    identity: Identity;
  };
}
