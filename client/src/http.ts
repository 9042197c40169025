/**
 * What the client's calls and its event stream share: the error every refusal becomes, and the retry rules (which
 * answers are worth another attempt, how long to wait before it).
 */
import type { RetryOptions } from "./types.ts";

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

export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 3,
  baseDelayMs: 250,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000,
};

/** Full jitter: a random wait up to the exponential bound, so many clients do not retry in step. */
export function backoff(r: Required<RetryOptions>, attempt: number): number {
  return Math.random() * Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempt - 1));
}

/** Whether an answer is worth another attempt: the database is unavailable (503) or a quota is spent (429). */
export function transient(status: number): boolean {
  return status === 503 || status === 429;
}

/** `Retry-After` in ms (seconds or an HTTP date), or null. */
export function retryAfterMs(res: Response): number | null {
  const v = res.headers.get("retry-after");
  if (!v) return null;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
export function networkCause(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> }; message?: string };
  // fetch wraps the socket error; with several addresses (localhost → ::1, 127.0.0.1) it is an AggregateError.
  return e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/** The refusal an error answer carries (`{error: {code, message, …}}`), as a CoordinatorError. */
export async function toError(res: Response): Promise<CoordinatorError> {
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
