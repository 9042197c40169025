import { OPERATIONS, OperationMethods, type OperationName, type OperationTypes } from "./generated/operations.ts";
import { EventStream, type EventsOptions } from "./events.ts";
import {
  backoff,
  CoordinatorError,
  DEFAULT_RETRY,
  networkCause,
  retryAfterMs,
  sleep,
  toError,
  transient,
} from "./http.ts";
import type { CallOptions, ClientOptions, FetchLike, RetryOptions } from "./types.ts";

export { CoordinatorError };

/**
 * The coordinator's base URL from what a user pasted: trailing slashes and a trailing `/mcp` (the URL the server
 * prints for MCP clients) are dropped.
 */
export function normalizeBaseUrl(url: string): string {
  return url
    .trim()
    .replace(/\/+$/, "")
    .replace(/\/mcp$/, "")
    .replace(/\/+$/, "");
}

/** Who is calling: the headers every request to the coordinator carries (REST and `/mcp` alike). */
export interface Identity {
  apiKey: string;
  agentId?: string | null;
  agentType?: string | null;
  sessionId?: string | null;
}

/** The key and identity headers, built in one place for the client and the bridge. */
export function identityHeaders(i: Identity): Record<string, string> {
  const h: Record<string, string> = { Authorization: `Bearer ${i.apiKey}` };
  if (i.agentId) h["X-Agent-Id"] = i.agentId;
  if (i.agentType) h["X-Agent-Type"] = i.agentType;
  if (i.sessionId) h["X-Session-Id"] = i.sessionId;
  return h;
}

/** Whether a call may be sent again: by its declared rule, and for keyed writes only when a key was sent. */
function retryable(name: OperationName, args: Record<string, unknown>): boolean {
  const rule = OPERATIONS[name].retry as string;
  if (rule === "always") return true;
  if (rule !== "key") return false;
  const key = (OPERATIONS[name] as { key?: string }).key ?? "idempotency_key";
  if (args[key] != null) return true;
  // A batch: every item carries its own key.
  return Object.values(args).some(
    (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((item) => item !== null && typeof item === "object" && (item as Record<string, unknown>)[key] != null),
  );
}

/**
 * A typed client for the coordinator's REST API: one method per operation (`acquireLock`, `getWork`, `remember`, …),
 * taking the operation's arguments and answering its typed result. Refusals throw `CoordinatorError`. Calls that are
 * safe to send twice (reads, idempotent writes, writes with an idempotency key) are retried on 503, 429 and network
 * errors, with exponential backoff and full jitter, honouring `Retry-After`.
 *
 *   const coord = new AgentCoordinationClient({ baseUrl, apiKey, agentId: "cloud-1" });
 *   const { locks } = await coord.acquireLock({ file_paths: ["src/a.ts"], reason: "fix" });
 */
export class AgentCoordinationClient extends OperationMethods {
  /** The base URL requests go to (normalized). */
  readonly baseUrl: string;
  /** The key and identity headers every request carries. */
  readonly headers: Readonly<Record<string, string>>;
  readonly #fetch: FetchLike;
  readonly #retry: RetryOptions | false;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    super();
    if (!options?.baseUrl) throw new TypeError("AgentCoordinationClient: baseUrl is required");
    if (!options.apiKey) throw new TypeError("AgentCoordinationClient: apiKey is required");
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.headers = Object.freeze(identityHeaders(options));
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#retry = options.retry ?? {};
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Calls an operation by its name (`"acquire_lock"`); the methods are shorthands for this. */
  async call<N extends OperationName>(
    name: N,
    args: OperationTypes[N]["input"],
    options: CallOptions = {},
  ): Promise<OperationTypes[N]["output"]> {
    const route = OPERATIONS[name];
    if (!route) throw new TypeError(`unknown operation ${String(name)}`);
    const fields: Record<string, unknown> = { ...(args as Record<string, unknown>) };
    const path = route.path.replace(/:([A-Za-z_]+)/g, (_, key: string) => {
      const value = fields[key];
      if (value === undefined || value === null || value === "") throw new TypeError(`${name}: ${key} is required`);
      delete fields[key];
      return encodeURIComponent(String(value));
    });
    let url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { ...this.headers };
    let body: string | undefined;
    if (route.method === "POST") {
      body = JSON.stringify(fields);
      headers["Content-Type"] = "application/json";
    } else {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined || v === null) continue;
        for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
      }
      const query = qs.toString();
      if (query) url += `?${query}`;
    }

    const policy = options.retry ?? this.#retry;
    const retry = policy === false ? null : { ...DEFAULT_RETRY, ...policy };
    const maxAttempts = retry && retryable(name, fields) ? retry.retries + 1 : 1;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;

    for (let attempt = 1; ; attempt++) {
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      let res: Response;
      try {
        res = await this.#fetch(url, { method: route.method, headers, body, signal: AbortSignal.any(signals) });
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        const timedOut = (err as Error)?.name === "TimeoutError";
        const failure = timedOut
          ? new CoordinatorError(0, "timeout", `${name}: no answer from ${this.baseUrl} within ${timeoutMs} ms`)
          : new CoordinatorError(0, "unreachable", `${name}: cannot reach the coordinator at ${this.baseUrl}`, {
              cause: networkCause(err),
            });
        if (attempt >= maxAttempts) throw failure;
        await sleep(backoff(retry!, attempt), options.signal);
        continue;
      }
      if (res.ok) return (await res.json()) as OperationTypes[N]["output"];

      const error = await toError(res);
      const wait = retryAfterMs(res);
      if (!transient(res.status) || attempt >= maxAttempts || (wait !== null && wait > retry!.maxRetryAfterMs)) {
        throw error;
      }
      await sleep(wait ?? backoff(retry!, attempt), options.signal);
    }
  }

  /**
   * The event stream (`GET /events`) as an async iterator that resumes across disconnects with `Last-Event-ID`:
   * nothing lost, nothing repeated. It reconnects when the server ends a stream (edge hosts end each within minutes)
   * and retries failed connections with the client's backoff; a refusal other than 503/429 ends the loop with a
   * `CoordinatorError`. A `reset` event means the server skipped what it could not replay: re-read your state.
   *
   *   for await (const e of coord.events({ kinds: ["lock."] })) if (e.kind === "lock.force_released") …
   */
  events(options: EventsOptions = {}): EventStream {
    return new EventStream(
      {
        baseUrl: this.baseUrl,
        headers: this.headers,
        fetch: this.#fetch,
        retry: this.#retry,
        timeoutMs: this.#timeoutMs,
      },
      options,
    );
  }
}
