import { OPERATIONS, OperationMethods, type OperationName, type OperationTypes } from "./generated/operations.ts";
import type { CallOptions, ClientOptions, FetchLike, RetryOptions } from "./types.ts";

/**
 * A refusal or failure: the HTTP status (0 when no answer came back), the error body's code and message (what to do
 * next), and its other fields as details (for example the locks that blocked an acquire).
 */
export class CoordinatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "CoordinatorError";
  }
}

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

const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 3,
  baseDelayMs: 250,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000,
};

/** Whether a call may be sent again: by its declared rule, and for keyed writes only when a key was sent. */
function retryable(name: OperationName, args: Record<string, unknown>): boolean {
  const rule = OPERATIONS[name].retry as string;
  if (rule === "always") return true;
  if (rule !== "key") return false;
  if (args.idempotency_key != null) return true;
  const tasks = args.tasks;
  return Array.isArray(tasks) && tasks.length > 0 && tasks.every((t) => t?.idempotency_key != null);
}

/** `Retry-After` in ms (seconds or an HTTP date), or null. */
function retryAfterMs(res: Response): number | null {
  const v = res.headers.get("retry-after");
  if (!v) return null;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The low-level reason a request got no answer (ECONNREFUSED, ENOTFOUND, …), as far as the runtime tells. */
function networkCause(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> }; message?: string };
  // fetch wraps the socket error; with several addresses (localhost → ::1, 127.0.0.1) it is an AggregateError.
  return e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.cause?.message ?? e?.message ?? String(err);
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
        await sleep(this.#backoff(retry!, attempt), options.signal);
        continue;
      }
      if (res.ok) return (await res.json()) as OperationTypes[N]["output"];

      const error = await toError(res);
      const wait = retryAfterMs(res);
      const transient = res.status === 503 || res.status === 429;
      if (!transient || attempt >= maxAttempts || (wait !== null && wait > retry!.maxRetryAfterMs)) throw error;
      await sleep(wait ?? this.#backoff(retry!, attempt), options.signal);
    }
  }

  /** Full jitter: a random wait up to the exponential bound, so many clients do not retry in step. */
  #backoff(r: Required<RetryOptions>, attempt: number): number {
    return Math.random() * Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempt - 1));
  }
}

async function toError(res: Response): Promise<CoordinatorError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string } & Record<string, unknown>;
  } | null;
  const { code, message, ...details } = body?.error ?? {};
  return new CoordinatorError(
    res.status,
    code ?? "http_error",
    message ?? `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`,
    details,
  );
}
