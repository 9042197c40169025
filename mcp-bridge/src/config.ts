/** The bridge's configuration, read from its environment (set in the agent's MCP server config). */
export interface BridgeConfig {
  /** The coordinator's base URL, e.g. http://127.0.0.1:8787 or https://<project>.supabase.co/functions/v1/coordinator */
  url: string;
  apiKey: string;
  agentId: string | null;
  agentType: string;
  sessionId: string;
  heartbeatMs: number;
}

/** A configuration the bridge cannot start with; main prints the message as one line and exits non-zero. */
export class BridgeConfigError extends Error {}

export function readConfig(env: Record<string, string | undefined>): BridgeConfig {
  const url = env.COORDINATOR_URL?.trim();
  if (!url)
    throw new BridgeConfigError("COORDINATOR_URL is not set: point it at the coordinator, e.g. http://127.0.0.1:8787");
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new BridgeConfigError(`COORDINATOR_URL is not an http(s) URL: ${url}`);
  }
  const apiKey = env.COORDINATION_API_KEY?.trim();
  if (!apiKey)
    throw new BridgeConfigError(
      "COORDINATION_API_KEY is not set: `npm start` prints a dev key; `npm run keys -- create` makes others",
    );
  const heartbeatMs = Number(env.BRIDGE_HEARTBEAT_MS ?? 30_000);
  if (!Number.isFinite(heartbeatMs) || heartbeatMs < 100)
    throw new BridgeConfigError("BRIDGE_HEARTBEAT_MS must be a number ≥ 100");
  return {
    url: url.replace(/\/+$/, ""),
    apiKey,
    agentId: env.AGENT_ID?.trim() || null,
    agentType: env.AGENT_TYPE?.trim() || "unknown",
    sessionId: env.SESSION_ID?.trim() || `s-${crypto.randomUUID()}`,
    heartbeatMs,
  };
}

/** Headers that carry the key and the identity on every request to the coordinator. */
export function identityHeaders(c: BridgeConfig): Record<string, string> {
  return {
    Authorization: `Bearer ${c.apiKey}`,
    ...(c.agentId ? { "X-Agent-Id": c.agentId } : {}),
    "X-Agent-Type": c.agentType,
    "X-Session-Id": c.sessionId,
  };
}
