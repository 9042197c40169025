import type { Hono, MiddlewareHandler } from "hono";
import type { Constraints } from "../db/errors.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";
import type { PathItem } from "./openapi.ts";
import type { Operation } from "./operation.ts";

/** An MCP resource a capability publishes (read-only, JSON). */
export interface ResourceDef {
  name: string;
  uri: string;
  title: string;
  description: string;
  read(ctx: OpContext): Promise<unknown>;
}

/**
 * A capability (locks, work, memory, verification, …) plugs into the app through this one shape: its operations
 * become REST routes and MCP tools, its resources MCP resources, and `routes` adds anything that is not an operation
 * (webhooks with their own authentication, streams). `S` is what `setup` builds once per app — clients, caches,
 * listeners — and operations reach it with `ctx.state(capability)`.
 */
export interface Capability<S = unknown> {
  name: string;
  operations: Operation[];
  resources?: ResourceDef[];
  /**
   * Routes that accept larger bodies than COORDINATOR_MAX_BODY_BYTES (path → bytes), e.g. GitHub's webhook, whose
   * payloads may reach 25 MB. Every other route keeps the app's default cap.
   */
  bodyLimits?: Record<string, number>;
  /**
   * The database constraints its SQL can meet on caller input (`table.constraint` → field and fix), mapped to a 400
   * naming the field; validation should refuse such input first, this is the net under it.
   */
  constraints?: Constraints;
  /** Builds the capability's per-app state and starts what it runs in the background (LISTEN, timers). */
  setup?(deps: AppDeps): S;
  /** Stops what `setup` started and ends open streams, so the host can close its server and database. */
  stop?(state: S): Promise<void> | void;
  /**
   * Periodic upkeep (sweeps, reaping, retention). Long-lived hosts run it on a timer (`npm start`: every
   * COORDINATOR_MAINTENANCE_MINUTES); on Supabase the same SQL is scheduled with pg_cron (docs/ARCHITECTURE.md).
   */
  maintenance?(deps: AppDeps): Promise<unknown>;
  /** Extra routes, mounted at the root; `auth` is the API-key middleware for those that need it. */
  routes?(deps: AppDeps, auth: MiddlewareHandler<AppEnv>): Hono<AppEnv>;
  /** The OpenAPI description of `routes` (OpenAPI path → path item): they are not operations, so they say it here. */
  routeDocs?: Record<string, PathItem>;
}

/** Declares a capability with its state type inferred from `setup`. */
export function defineCapability<S = undefined>(c: Capability<S>): Capability<S> {
  return c;
}
