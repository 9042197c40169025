import type { Hono, MiddlewareHandler } from "hono";
import type { Operation } from "./ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "./types.ts";

/** An MCP resource a capability publishes (read-only, JSON). */
export interface ResourceDef {
  name: string;
  uri: string;
  title: string;
  description: string;
  read(ctx: OpContext): Promise<unknown>;
}

/**
 * A capability (locks, work, memory, verification, …) plugs into the app through this one shape: its
 * operations become REST routes and MCP tools, its resources MCP resources, and `routes` adds anything that is
 * not an operation (webhooks with their own authentication, streams).
 */
export interface Capability {
  name: string;
  operations: Operation[];
  resources?: ResourceDef[];
  /**
   * Routes that accept larger bodies than COORDINATOR_MAX_BODY_BYTES (path → bytes), e.g. GitHub's webhook, whose
   * payloads may reach 25 MB. Every other route keeps the app's default cap.
   */
  bodyLimits?: Record<string, number>;
  /**
   * Periodic upkeep (sweeps, reaping, retention). Long-lived hosts run it on a timer (`npm start`: every
   * COORDINATOR_MAINTENANCE_MINUTES); on Supabase the same SQL is scheduled with pg_cron (docs/ARCHITECTURE.md).
   */
  maintenance?(deps: AppDeps): Promise<unknown>;
  /** Extra routes, mounted at the root; `auth` is the API-key middleware for those that need it. */
  routes?(deps: AppDeps, auth: MiddlewareHandler<AppEnv>): Hono<AppEnv>;
}
