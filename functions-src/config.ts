/**
 * Configuration: parsed and validated once per host from its environment (process.env, Deno.env), then passed
 * around as typed values. Nothing else in the app reads the environment.
 */
import { type EventsConfig, loadEventsConfig } from "./events/config.ts";
import { AGENT_ID_PATTERN } from "./identity/agent-id.ts";
import { ConfigError, type Env, enumVar, intVar, list } from "./util/env.ts";
import { loadMemoryConfig, type MemoryConfig } from "./memory/config.ts";
import { loadVerificationConfig, type VerificationConfig } from "./verification/config.ts";

export { ConfigError, type Env };

/**
 * One configured API key. From COORDINATION_API_KEYS: `KEY` (may act as any agent it names) or `KEY:AGENT_ID`
 * (bound to that agent), both with agent scope. From COORDINATION_ADMIN_KEYS: admin scope, any agent.
 */
export interface EnvKey {
  key: string;
  agentId: string | null;
  scope: "agent" | "admin";
}

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/**
 * Per-agent caps (0 turns one off); admin keys are exempt from all of them. Held locks and open tasks are counted by
 * SQL, in the call that would exceed them, across every process; the two rates are counted in memory by each process
 * (on the edge: by each isolate, so the effective rate there is a multiple of the setting).
 */
export interface Quotas {
  /** Live locks one agent may hold. */
  heldLocks: number;
  /** Pending or claimed tasks one agent may have submitted. */
  pendingTasks: number;
  /** Memory writes (remember, report_skill_outcome) per agent per minute. */
  memoryWritesPerMinute: number;
  /** Authenticated requests per agent per minute. */
  requestsPerMinute: number;
}
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What the app itself is built with (the part of the configuration every host shares). */
export interface AppConfig {
  apiKeys: EnvKey[];
  /** Request bodies above this are refused with 413 before they are read. */
  maxBodyBytes: number;
  /** Bytes that unverified webhook bodies in flight may hold together (the rest wait, then get 503). */
  unverifiedBodyBytes: number;
  /**
   * Host names accepted in `Host` and `Origin` (DNS-rebinding protection for a server on loopback).
   * `null` turns the check off: the edge host sits behind Supabase's gateway, which fixes the host.
   */
  allowedHosts: string[] | null;
  logLevel: LogLevel;
  /** Milliseconds /health waits for the database before answering 503. */
  healthTimeoutMs: number;
  /**
   * Seconds without a heartbeat (or any call) after which a heartbeating session is dead: its locks and claims are
   * free at once (they never outlive it). The bridge beats every 30 s; keep this well above the interval.
   */
  sessionTimeoutSeconds: number;
  /**
   * Group commit on the lock and queue hot paths (db/group.ts): calls that arrive while one runs share the next
   * statement and commit. On by default; COORDINATOR_GROUP_COMMIT=off sends every call alone.
   */
  groupCommit: boolean;
  /** Per-agent caps, answered with 429 and Retry-After. */
  quotas: Quotas;
  /** The verification gateway's settings (GitHub, sandboxes, callbacks). */
  verification: VerificationConfig;
  /** Event streams: heartbeat, backlog bound, how long a stream may stay open on this host. */
  events: EventsConfig;
  /** Memory's settings (the embedding provider). */
  memory: MemoryConfig;
}

/** Where the database is and how to reach it. */
export interface DatabaseConfig {
  /** A Postgres URL, or null for the embedded PGlite (Node host only). */
  url: string | null;
  /** Behind Supabase's transaction pooler (SUPABASE_DB_URL): no prepared statements, LISTEN unavailable. */
  pooled: boolean;
  poolSize: number;
  /** Prepared statements: on for a direct connection, off behind a transaction pooler. */
  prepare: boolean;
  /** PGlite's data directory (Node host). */
  dataDir: string;
  /** Seconds to wait for a connection (and for a query to reach the server) before 503. */
  connectTimeoutSeconds: number;
  /** Milliseconds a statement may run (Postgres `statement_timeout`); 0 turns the limit off. */
  statementTimeoutMs: number;
}

/** Everything a host reads from its environment: the app's configuration plus how to serve it. */
export interface Config extends AppConfig {
  port: number;
  hostname: string;
  database: DatabaseConfig;
  /** Minutes between upkeep runs on a long-lived host; 0 turns the timer off. */
  maintenanceMinutes: number;
}

/** What differs between hosts before the environment has its say. */
export interface HostDefaults {
  port: number;
  poolSize: number;
  /** The Node host on loopback checks Host/Origin; the edge host does not (Supabase's gateway fixes the host). */
  allowedHosts: string[] | null;
  /** Seconds one event stream stays open (0: no limit) and the host's wall-clock limit (0: none). */
  streamSeconds: number;
  wallClockSeconds: number;
}

export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** Parses `COORDINATION_API_KEYS` (comma-separated `KEY` or `KEY:AGENT_ID`) or, with scope admin, the admin keys. */
export function parseApiKeys(raw: string | undefined, scope: "agent" | "admin" = "agent"): EnvKey[] {
  const name = scope === "admin" ? "COORDINATION_ADMIN_KEYS" : "COORDINATION_API_KEYS";
  return list(raw).map((entry, i) => {
    const colon = entry.indexOf(":");
    const key = colon < 0 ? entry : entry.slice(0, colon);
    const agentId = colon < 0 ? null : entry.slice(colon + 1);
    if (key.length < 16)
      throw new ConfigError(`${name} entry ${i + 1} is shorter than 16 characters; use a random key`);
    if (agentId !== null && scope === "admin") {
      throw new ConfigError(`${name} entry ${i + 1} has an agent id; admin keys act as any agent`);
    }
    if (agentId !== null && !AGENT_ID_PATTERN.test(agentId)) {
      throw new ConfigError(`${name} entry ${i + 1} binds an invalid agent id (letters, digits, ._:@- only)`);
    }
    return { key, agentId, scope };
  });
}

/**
 * Reads the whole configuration from an environment record, once, at the host's start. Throws ConfigError with the
 * variable to fix.
 */
export function loadConfig(env: Env, defaults: HostDefaults): Config {
  const extraHosts = list(env.COORDINATOR_ALLOWED_HOSTS);
  // SUPABASE_DB_URL is provided on Supabase and reaches the database through its transaction pooler.
  const supabaseUrl = env.SUPABASE_DB_URL?.trim() || null;
  const url = supabaseUrl ?? (env.DATABASE_URL?.trim() || null);
  const prepare = enumVar(env, "DATABASE_PREPARE", ["true", "false"], supabaseUrl ? "false" : "true") === "true";
  return {
    apiKeys: [...parseApiKeys(env.COORDINATION_API_KEYS), ...parseApiKeys(env.COORDINATION_ADMIN_KEYS, "admin")],
    maxBodyBytes: intVar(env, "COORDINATOR_MAX_BODY_BYTES", 1024 * 1024),
    // Room for one of GitHub's largest deliveries (25 MB) beside small ones; must be at least 25 MiB.
    unverifiedBodyBytes: intVar(env, "COORDINATOR_UNVERIFIED_BYTES", 32 * 1024 * 1024, 25 * 1024 * 1024),
    allowedHosts: extraHosts.length ? [...LOOPBACK_HOSTS, ...extraHosts] : defaults.allowedHosts,
    logLevel: enumVar(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    healthTimeoutMs: intVar(env, "COORDINATOR_HEALTH_TIMEOUT_MS", 2000),
    sessionTimeoutSeconds: intVar(env, "COORDINATOR_SESSION_TIMEOUT_SECONDS", 90, 2, 86_400),
    groupCommit: enumVar(env, "COORDINATOR_GROUP_COMMIT", ["on", "off"], "on") === "on",
    quotas: {
      heldLocks: intVar(env, "COORDINATOR_MAX_HELD_LOCKS", 200, 0),
      pendingTasks: intVar(env, "COORDINATOR_MAX_PENDING_TASKS", 1000, 0),
      memoryWritesPerMinute: intVar(env, "COORDINATOR_MEMORY_RATE", 60, 0),
      requestsPerMinute: intVar(env, "COORDINATOR_REQUEST_RATE", 1200, 0),
    },
    verification: loadVerificationConfig(env),
    events: loadEventsConfig(env, defaults),
    memory: loadMemoryConfig(env),
    port: intVar(env, "PORT", defaults.port, 0, 65535),
    hostname: env.HOST?.trim() || "127.0.0.1",
    database: {
      url,
      pooled: supabaseUrl !== null,
      poolSize: intVar(env, "DATABASE_POOL_SIZE", defaults.poolSize, 1, 1000),
      prepare: supabaseUrl === null && prepare,
      dataDir: env.COORDINATOR_DATA_DIR?.trim() || ".coordinator",
      connectTimeoutSeconds: intVar(env, "DATABASE_CONNECT_TIMEOUT", 5, 1, 600),
      statementTimeoutMs: intVar(env, "DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 0),
    },
    maintenanceMinutes: intVar(env, "COORDINATOR_MAINTENANCE_MINUTES", 60, 0),
  };
}

/** The Node host's defaults (`npm start`): loopback with the Host/Origin guard. */
export const NODE_DEFAULTS: HostDefaults = {
  port: 8787,
  poolSize: 10,
  allowedHosts: LOOPBACK_HOSTS,
  streamSeconds: 0,
  wallClockSeconds: 0,
};

/**
 * The edge host's defaults (Supabase Edge Functions, `npm run edge`). A worker lives at most 150 s of wall clock on
 * the free plan (400 s on paid plans: set COORDINATOR_WALL_CLOCK_SECONDS=400), so streams end before it, and each
 * stream after 120 s at most; clients resume with Last-Event-ID.
 */
export const EDGE_DEFAULTS: HostDefaults = {
  port: 8000,
  poolSize: 5,
  allowedHosts: null,
  streamSeconds: 120,
  wallClockSeconds: 150,
};
