/** How often and how long the client waits before sending a failed call again. */
export interface RetryOptions {
  /** Extra attempts after the first (default 3). */
  retries?: number;
  /** Backoff base in ms: attempt n waits a random time up to `min(maxDelayMs, baseDelayMs * 2^n)` (default 250). */
  baseDelayMs?: number;
  /** Backoff cap in ms (default 5000). */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this (ms) is not waited for: the call fails at once (default 30000). */
  maxRetryAfterMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and any wait between retries). */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms (default: the client's, 60000). */
  timeoutMs?: number;
  /** Retry settings for this call, or `false` for a single attempt. */
  retry?: RetryOptions | false;
}

/** A fetch implementation: the global one, or a stand-in (tests, proxies, `app.request`). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /**
   * The coordinator's base URL: `http://127.0.0.1:8787` locally, `https://<ref>.supabase.co/functions/v1/coordinator`
   * deployed. A trailing slash or `/mcp` (the URL printed for MCP clients) is accepted.
   */
  baseUrl: string;
  /** The agent's API key (sent as `Authorization: Bearer …`). */
  apiKey: string;
  /** The agent id (`X-Agent-Id`); may be left out with a key bound to one agent. */
  agentId?: string;
  /** The agent type (`X-Agent-Type`), e.g. `claude_code`, `codex_cli`, `cloud`. */
  agentType?: string;
  /** The session id (`X-Session-Id`): locks and claims taken with one live and die with that session's heartbeats. */
  sessionId?: string;
  /** A fetch implementation (default: the global `fetch`). */
  fetch?: FetchLike;
  /** Default retry settings, or `false` to never retry. */
  retry?: RetryOptions | false;
  /** Per-attempt timeout in ms (default 60000; long-polls such as `wait_seconds` stay well below it). */
  timeoutMs?: number;
}
