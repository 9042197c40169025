import type { AppConfig } from "./config.ts";
import type { Constraints } from "./db/errors.ts";
import type { EventFeed } from "./events/feed.ts";
import type { Db } from "./db/port.ts";
import type { Logger } from "./http/log.ts";
import type { RateLimiter } from "./ops/quotas.ts";
import type { Capability } from "./ops/capability.ts";

/** Who is calling: resolved from the API key and the identity headers by the auth middleware. */
export interface Identity {
  agentId: string;
  agentType: string;
  sessionId: string | null;
  /** `admin` may act as any agent and perform operator actions (force-release, approvals). */
  scope: "agent" | "admin";
  /** 0–4, from a database key; keys from the environment carry the default, 2. */
  trustLevel: number;
  /**
   * Whether agentId is the key's own (an agent key's binding, or a database admin key's own agent): only then do
   * trust scores and exclude_submitter count the caller as that agent. An unbound key may be anyone's.
   */
  bound: boolean;
  /** Names the key in events without revealing it: `env:<digest prefix>` or a database key's prefix. */
  key: string;
}

/** What a host builds the app from. Hosts construct these; tests pass their own. */
export interface HostDeps {
  db: Db;
  config: AppConfig;
  log: Logger;
  /** Outbound HTTP (GitHub, E2B); tests pass a stand-in. Defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The in-memory rate limiters of one app: every authenticated request, and memory writes. */
export interface RateLimits {
  requests: RateLimiter;
  memoryWrites: RateLimiter;
}

/** What every operation, route and upkeep job of the app runs with. */
export interface AppDeps extends HostDeps {
  fetch: typeof fetch;
  /** Every mounted capability's known database constraints: a violation answers 400 naming the field. */
  constraints: Constraints;
  /** Per-agent rates counted in this process (config.quotas); admin keys are exempt. */
  rates: RateLimits;
  /** The app's one follower of coord.events: event streams and waiting requests subscribe to it. */
  feed: EventFeed;
  /**
   * Says that writes were committed: pokes this app's feed and, by NOTIFY, every other process's (events/announce.ts).
   * The app calls it after every request that may write; code that writes outside a request calls it itself.
   */
  announce(): void;
  /** The per-app state a capability's `setup` built (its clients, caches, listeners). */
  state<S>(capability: Capability<S>): S;
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
    /** Lost-lock/claim notices waiting for the caller's session, as the presence call counted them (0: unknown). */
    pendingNotices: number;
  };
}
