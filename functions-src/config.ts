/**
 * One configured API key. From COORDINATION_API_KEYS: `KEY` (may act as any agent it names) or `KEY:AGENT_ID`
 * (bound to that agent), both with agent scope. From COORDINATION_ADMIN_KEYS: admin scope, any agent.
 */
export interface EnvKey {
  key: string;
  agentId: string | null;
  scope: "agent" | "admin";
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** Everything the app reads from its environment, parsed once by the host. */
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
}

export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** Thrown for an environment that cannot work; the host prints the message and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Parses `COORDINATION_API_KEYS` (comma-separated `KEY` or `KEY:AGENT_ID`). */
export function parseApiKeys(raw: string | undefined, scope: "agent" | "admin" = "agent"): EnvKey[] {
  if (!raw) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const colon = entry.indexOf(":");
      const key = colon < 0 ? entry : entry.slice(0, colon);
      const agentId = colon < 0 ? null : entry.slice(colon + 1);
      if (key.length < 16) {
        throw new ConfigError(
          `${scope === "admin" ? "COORDINATION_ADMIN_KEYS" : "COORDINATION_API_KEYS"} entry ${i + 1} is shorter than 16 characters; use a random key`,
        );
      }
      if (agentId !== null && scope === "admin") {
        throw new ConfigError(`COORDINATION_ADMIN_KEYS entry ${i + 1} has an agent id; admin keys act as any agent`);
      }
      if (agentId !== null && !AGENT_ID.test(agentId)) {
        throw new ConfigError(
          `COORDINATION_API_KEYS entry ${i + 1} binds an invalid agent id (letters, digits, ._:@- only)`,
        );
      }
      return { key, agentId, scope };
    });
}

function intFrom(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Reads the app's configuration from an environment record (process.env or Deno.env.toObject()). */
export function loadConfig(env: Record<string, string | undefined>, defaults: Partial<AppConfig> = {}): AppConfig {
  const hosts = env.COORDINATOR_ALLOWED_HOSTS;
  const level = (env.LOG_LEVEL ?? defaults.logLevel ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error", "silent"].includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of debug, info, warn, error, silent`);
  }
  return {
    apiKeys: [...parseApiKeys(env.COORDINATION_API_KEYS), ...parseApiKeys(env.COORDINATION_ADMIN_KEYS, "admin")],
    maxBodyBytes: intFrom(env, "COORDINATOR_MAX_BODY_BYTES", defaults.maxBodyBytes ?? 1024 * 1024),
    allowedHosts: hosts
      ? [
          ...LOOPBACK_HOSTS,
          ...hosts
            .split(",")
            .map((h) => h.trim())
            .filter(Boolean),
        ]
      : (defaults.allowedHosts ?? null),
    logLevel: level,
    healthTimeoutMs: intFrom(env, "COORDINATOR_HEALTH_TIMEOUT_MS", defaults.healthTimeoutMs ?? 2000),
  };
}
