import { CoordinatorError, normalizeBaseUrl } from "../../client/src/index.ts";

/** The bridge's configuration, read from its environment (set in the agent's MCP server config or shell). */
export interface BridgeConfig {
  /** The coordinator's base URL (normalized: no trailing slash, no `/mcp`). */
  url: string;
  apiKey: string;
  agentId: string | null;
  agentType: string | null;
  sessionId: string;
  /** True when SESSION_ID was set (not generated). */
  sessionIdGiven: boolean;
  heartbeatMs: number;
}

/** A configuration the bridge cannot work with; printed as one line naming the variable to set. */
export class BridgeConfigError extends Error {}

export type Env = Record<string, string | undefined>;

const value = (env: Env, name: string) => env[name]?.trim() || null;

/** The coordinator URL and key: what every subcommand (bridge, hook, guard) needs. */
export function readConnection(env: Env): { url: string; apiKey: string } {
  const raw = value(env, "COORDINATOR_URL");
  if (!raw) {
    throw new BridgeConfigError(
      "COORDINATOR_URL is not set: set it to the coordinator's base URL, e.g. http://127.0.0.1:8787",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new BridgeConfigError(`COORDINATOR_URL is not an http(s) URL: ${raw}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new BridgeConfigError(`COORDINATOR_URL is not an http(s) URL: ${raw}`);
  }
  const apiKey = value(env, "COORDINATION_API_KEY");
  if (!apiKey) {
    throw new BridgeConfigError(
      "COORDINATION_API_KEY is not set: `npm start` prints a dev key; `npm run keys -- create --agent ID` makes one per agent",
    );
  }
  return { url: normalizeBaseUrl(raw), apiKey };
}

export function readConfig(env: Env): BridgeConfig {
  const { url, apiKey } = readConnection(env);
  const heartbeat = value(env, "BRIDGE_HEARTBEAT_MS");
  const heartbeatMs = heartbeat === null ? 30_000 : Number(heartbeat);
  if (!Number.isFinite(heartbeatMs) || heartbeatMs < 100) {
    throw new BridgeConfigError(`BRIDGE_HEARTBEAT_MS must be a number of milliseconds ≥ 100 (got ${heartbeat})`);
  }
  const sessionId = value(env, "SESSION_ID");
  return {
    url,
    apiKey,
    agentId: value(env, "AGENT_ID"),
    agentType: value(env, "AGENT_TYPE"),
    sessionId: sessionId ?? `s-${crypto.randomUUID()}`,
    sessionIdGiven: sessionId !== null,
    heartbeatMs,
  };
}

/** The environment variable behind each identity header, for messages that tell the user what to set. */
const HEADER_VARIABLE: Record<string, string> = {
  "x-agent-id": "AGENT_ID",
  "x-agent-type": "AGENT_TYPE",
  "x-session-id": "SESSION_ID",
};

/**
 * Explains a failed first call in terms of the user's settings (environment variables), not of HTTP headers they
 * never set.
 */
export function explainRefusal(err: unknown, c: { url: string; agentId: string | null }): string {
  if (!(err instanceof CoordinatorError)) return (err as Error)?.message ?? String(err);
  if (err.status === 0) {
    const cause = err.code === "timeout" ? "no answer" : String(err.details.cause ?? err.code);
    return `cannot reach the coordinator at ${c.url} (${cause}); is it running? Check COORDINATOR_URL.`;
  }
  switch (err.code) {
    case "missing_key":
    case "invalid_key":
      return `coordinator refused the bridge (${err.status}): ${err.message} Check COORDINATION_API_KEY.`;
    case "missing_agent_id":
      return "AGENT_ID is not set, and COORDINATION_API_KEY may act as any agent: set AGENT_ID (e.g. claude-code-1) to name this agent.";
    case "key_bound_to_other_agent":
      return `AGENT_ID=${c.agentId} is not allowed with this key: ${err.message} Set AGENT_ID to the key's agent, or leave it unset.`;
    case "invalid_header": {
      const name = HEADER_VARIABLE[String(err.details.field ?? "").toLowerCase()];
      const rule = err.message.replace(/^.*?: use /, "use ");
      return name ? `${name} is not valid: ${rule}` : `coordinator refused the bridge (${err.status}): ${err.message}`;
    }
    case "not_found":
      return `COORDINATOR_URL=${c.url} does not look like a coordinator (404 on ${err.message.match(/\/\S+/)?.[0] ?? "its routes"}): set it to the coordinator's base URL.`;
    default:
      return `coordinator refused the bridge (${err.status}): ${err.message}`;
  }
}
