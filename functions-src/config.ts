/**
 * Configuration: parsed and validated once per host from its environment (process.env, Deno.env), then passed
 * around as typed values. Nothing else in the app reads the environment.
 */
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
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What the app itself is built with (the part of the configuration every host shares). */
export interface AppConfig {
  apiKeys: EnvKey[];
  /** Request bodies above this are refused with 413 before they are read. */
  maxBodyBytes: number;
  /**
   * Host names accepted in `Host` and `Origin` (DNS-rebinding protection for a server on loopback).
   * `null` turns the check off: the edge host sits behind Supabase's gateway, which fixes the host.
   */
  allowedHosts: string[] | null;
  logLevel: LogLevel;
  /** Milliseconds /health waits for the database before answering 503. */
  healthTimeoutMs: number;
  /** The verification gateway's settings (GitHub, sandboxes, callbacks). */
  verification: VerificationConfig;
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
    allowedHosts: extraHosts.length ? [...LOOPBACK_HOSTS, ...extraHosts] : defaults.allowedHosts,
    logLevel: enumVar(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    healthTimeoutMs: intVar(env, "COORDINATOR_HEALTH_TIMEOUT_MS", 2000),
    verification: loadVerificationConfig(env),
    memory: loadMemoryConfig(env),
    port: intVar(env, "PORT", defaults.port, 0, 65535),
    hostname: env.HOST?.trim() || "127.0.0.1",
    database: {
      url,
      pooled: supabaseUrl !== null,
      poolSize: intVar(env, "DATABASE_POOL_SIZE", defaults.poolSize, 1, 1000),
      prepare: supabaseUrl === null && prepare,
      dataDir: env.COORDINATOR_DATA_DIR?.trim() || ".coordinator",
    },
    maintenanceMinutes: intVar(env, "COORDINATOR_MAINTENANCE_MINUTES", 60, 0),
  };
}

/** The Node host's defaults (`npm start`): loopback with the Host/Origin guard. */
export const NODE_DEFAULTS: HostDefaults = { port: 8787, poolSize: 10, allowedHosts: LOOPBACK_HOSTS };

/** The edge host's defaults (Supabase Edge Functions, `deno task serve`). */
export const EDGE_DEFAULTS: HostDefaults = { port: 8000, poolSize: 5, allowedHosts: null };
