/**
 * The coordinator's event stream (`GET /events`, Server-Sent Events) as an async iterator that survives disconnects:
 * it resumes with `Last-Event-ID` (nothing lost, nothing repeated), reconnects after the server ends a stream (edge
 * hosts end every stream within minutes), and retries failed connections with the client's backoff rules. Fetch
 * streams only (no EventSource, no Node built-in): Node 20+, Deno and browsers.
 */
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
import type { ListEventsOutput } from "./generated/operations.ts";
import type { FetchLike, RetryOptions } from "./types.ts";

/**
 * One recorded event, as the stream (and the audit query, `listEvents`) sends it: `id` (only grows), `kind`
 * (`capability.what_happened`: ignore kinds you do not know), `occurred_at`, `agent_id` (who acted), `session_id` (the
 * acting session; your own events only), `subject` (a lock key, task id, changeset id, session id) and `data` (the
 * kind's fields). See docs/EVENTS.md for the kinds.
 */
export type CoordinatorEvent = ListEventsOutput["events"][number];

/**
 * Sent instead of the events missed since the resume point when there were too many of them (more than the server's
 * backlog bound) or the resume id is unknown: re-read the state you track; the stream continues live after it.
 */
export interface ResetEvent {
  /** The stream's position after the reset (the server's cursor): later events have higher ids. */
  id: number;
  kind: "reset";
  occurred_at: null;
  agent_id: null;
  subject: null;
  data: { reason: string; cursor: number; after?: number; max?: number };
}

/** What the iterator yields: events, and `reset` when the server skipped what it could not replay. */
export type StreamEvent = CoordinatorEvent | ResetEvent;

/** Options of `client.events()`. */
export interface EventsOptions {
  /** Kinds or prefixes (`lock.`, `task.completed`; `lock` means `lock.`); default every kind your key may see. */
  kinds?: string[];
  /** Only events of this repository (`data.repo`). */
  repo?: string;
  /** Resume after this event id (a `lastEventId` you kept); default: from now on. */
  after?: number | string | null;
  /** Ends the iteration (the connection is closed; the loop simply ends). */
  signal?: AbortSignal;
  /**
   * Backoff after a failed connection (503, 429, network error): the client's rules — exponential backoff with full
   * jitter, `Retry-After` honoured. `retries` counts consecutive failures (default: no limit); `false` throws at the
   * first failure. A stream the server ended cleanly is always resumed.
   */
  retry?: RetryOptions | false;
  /** How long to wait for the answer's headers on each connection, in ms (default: the client's timeout). */
  timeoutMs?: number;
  /**
   * A connection that receives nothing (not even the server's 15 s heartbeat comment) for this long is dropped and
   * resumed, in ms (default 45000): a half-dead connection after a network change would otherwise wait forever.
   */
  idleTimeoutMs?: number;
  /** Called each time a connection is established (its response headers arrived), with the id it resumed after. */
  onOpen?: (info: { resumedAfter: string | null }) => void;
  /** Called after a failed connection, before waiting `delayMs` for the next attempt. */
  onError?: (error: CoordinatorError, delayMs: number) => void;
}

/** How the client reaches the server: what `events()` needs of it. */
export interface StreamTarget {
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  fetch: FetchLike;
  retry: RetryOptions | false;
  timeoutMs: number;
}

/** One dispatched Server-Sent Event: its type, data and the last event id at dispatch. */
export interface ServerSentEvent {
  event: string;
  data: string;
  lastEventId: string;
}

const LINE_END = /[\r\n]/g;

/**
 * An incremental parser of the event stream format (HTML standard, "Server-sent events"): feed it decoded text in
 * chunks of any size; it answers the events each chunk completes. Lines end with CRLF, LF or CR (a CR at a chunk's end
 * may be the first half of a CRLF); `:` starts a comment; `data` lines join with a newline; `id` sets the last event
 * id (kept across events), `retry` the reconnection time.
 */
export class ServerSentEventParser {
  /** The last event id buffer: the latest `id` field seen, perhaps of a message not complete yet. */
  lastEventId = "";
  /** The last event id as of the last complete message (blank line): what a reconnect sends as `Last-Event-ID`. */
  committedId = "";
  /** The reconnection time the server asked for, in ms, or null. */
  retry: number | null = null;
  #buffer = "";
  #skipLineFeed = false;
  #event = "";
  #data: string[] = [];

  feed(text: string): ServerSentEvent[] {
    const out: ServerSentEvent[] = [];
    const buf = this.#buffer + text;
    let start = 0;
    if (this.#skipLineFeed && buf.length > 0) {
      if (buf[0] === "\n") start = 1;
      this.#skipLineFeed = false;
    }
    LINE_END.lastIndex = start;
    for (let m = LINE_END.exec(buf); m; m = LINE_END.exec(buf)) {
      const end = m.index;
      this.#line(buf.slice(start, end), out);
      if (buf[end] === "\r") {
        if (end + 1 === buf.length) this.#skipLineFeed = true;
        else if (buf[end + 1] === "\n") LINE_END.lastIndex = end + 2;
      }
      start = LINE_END.lastIndex;
    }
    this.#buffer = buf.slice(start);
    return out;
  }

  #line(line: string, out: ServerSentEvent[]): void {
    if (line === "") {
      // A blank line dispatches the event being built; one without data is dropped (its id still counts).
      if (this.#data.length > 0) {
        out.push({ event: this.#event || "message", data: this.#data.join("\n"), lastEventId: this.lastEventId });
      }
      this.#event = "";
      this.#data = [];
      this.committedId = this.lastEventId;
      return;
    }
    if (line[0] === ":") return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id") {
      if (!value.includes("\0")) this.lastEventId = value;
    } else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/** The event an SSE message carries, or null for a message that is not one of ours (it is skipped). */
function toEvent(m: ServerSentEvent): StreamEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(m.data);
  } catch {
    return null;
  }
  if (data === null || typeof data !== "object") return null;
  if (m.event === "reset") {
    const id = Number(m.lastEventId);
    return {
      id,
      kind: "reset",
      occurred_at: null,
      agent_id: null,
      subject: null,
      data: data as ResetEvent["data"],
    };
  }
  const e = data as CoordinatorEvent;
  return typeof e.id === "number" && typeof e.kind === "string" ? e : null;
}

/** Why a connection ended: the server closed it, it went idle, or the caller closed the stream. */
type Ended = "server" | "idle" | "closed";

const DEFAULT_IDLE_MS = 45_000;
/** The reconnection time when the server names none (the server sends `retry: 1000`). */
const DEFAULT_RECONNECT_MS = 1000;

/**
 * The event stream of one `client.events()` call: iterate it once with `for await`. `lastEventId` is the id of the
 * last event the loop received: keep it to resume later (`events({ after })`). Breaking out of the loop, `close()` or
 * the `signal` closes the connection.
 */
export class EventStream implements AsyncIterable<StreamEvent> {
  #lastEventId: string | null;
  #connected = false;
  #iterating = false;
  readonly #closer = new AbortController();

  constructor(
    private readonly target: StreamTarget,
    private readonly options: EventsOptions = {},
  ) {
    this.#lastEventId = options.after === undefined || options.after === null ? null : String(options.after);
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    if (options.signal?.aborted) this.close();
  }

  /** The id of the last event received (what a reconnect sends as `Last-Event-ID`), or the `after` it started with. */
  get lastEventId(): string | null {
    return this.#lastEventId;
  }

  /** Whether a connection is open now (between its headers and its end). */
  get connected(): boolean {
    return this.#connected;
  }

  /** Ends the iteration: the open connection is closed and the loop ends. */
  close(): void {
    this.#closer.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    if (this.#iterating) throw new TypeError("an event stream is iterated once: call events() again (with after)");
    this.#iterating = true;
    return this.#run();
  }

  #url(): string {
    const qs = new URLSearchParams();
    if (this.options.kinds?.length) qs.set("kinds", this.options.kinds.join(","));
    if (this.options.repo) qs.set("repo", this.options.repo);
    const query = qs.toString();
    return `${this.target.baseUrl}/events${query ? `?${query}` : ""}`;
  }

  #retryPolicy(): Required<RetryOptions> | null {
    const own = this.options.retry;
    if (own === false) return null;
    // The client's delays apply; its number of retries is for calls: a stream keeps trying unless told otherwise.
    const inherited: RetryOptions = this.target.retry === false ? {} : { ...this.target.retry, retries: undefined };
    const merged: Required<RetryOptions> = { ...DEFAULT_RETRY, retries: Number.POSITIVE_INFINITY };
    for (const layer of [inherited, own ?? {}]) {
      for (const [k, v] of Object.entries(layer)) {
        if (typeof v === "number") merged[k as keyof RetryOptions] = v;
      }
    }
    return merged;
  }

  async *#run(): AsyncGenerator<StreamEvent> {
    const retry = this.#retryPolicy();
    const idleMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    const closed = this.#closer.signal;
    let failures = 0;
    let reconnectMs = DEFAULT_RECONNECT_MS;

    while (!closed.aborted) {
      const resumedAfter = this.#lastEventId;
      const connection = new AbortController();
      const onClose = () => connection.abort();
      closed.addEventListener("abort", onClose, { once: true });
      try {
        const opened = await this.#connect(connection, resumedAfter);
        if (closed.aborted) return;
        if ("failure" in opened) {
          failures++;
          if (!retry || failures > retry.retries) throw opened.failure;
          const wait = opened.retryAfterMs;
          if (wait !== null && wait > retry.maxRetryAfterMs) throw opened.failure;
          const delay = wait ?? backoff(retry, failures);
          this.options.onError?.(opened.failure, delay);
          await sleep(delay, closed).catch(() => {});
          continue;
        }

        failures = 0;
        this.#connected = true;
        this.options.onOpen?.({ resumedAfter });
        const parser = new ServerSentEventParser();
        if (resumedAfter !== null) parser.lastEventId = parser.committedId = resumedAfter;
        const ended: Ended = yield* this.#read(opened.body, parser, connection, idleMs);
        this.#connected = false;
        if (parser.retry !== null) reconnectMs = parser.retry;
        if (ended === "closed" || closed.aborted) return;
        if (ended === "idle") {
          // A silent connection (a network change left it half-open): resume at once, like a failure.
          const failure = new CoordinatorError(0, "idle", `events: nothing received for ${idleMs} ms; resuming`);
          const delay = retry ? backoff(retry, 1) : 0;
          this.options.onError?.(failure, delay);
          await sleep(delay, closed).catch(() => {});
          continue;
        }
        // The server ended the stream (its time limit, a restart): resume after its reconnection time.
        await sleep(Math.min(reconnectMs, retry?.maxDelayMs ?? reconnectMs), closed).catch(() => {});
      } finally {
        this.#connected = false;
        closed.removeEventListener("abort", onClose);
        connection.abort();
      }
    }
  }

  /** One connection attempt: the event stream's body, a failure worth retrying, or a thrown refusal. */
  async #connect(
    connection: AbortController,
    resumedAfter: string | null,
  ): Promise<{ body: ReadableStream<Uint8Array> } | { failure: CoordinatorError; retryAfterMs: number | null }> {
    const url = this.#url();
    const timeoutMs = this.options.timeoutMs ?? this.target.timeoutMs;
    const headers: Record<string, string> = {
      ...this.target.headers,
      Accept: "text/event-stream",
      "Cache-Control": "no-cache",
    };
    if (resumedAfter !== null) headers["Last-Event-ID"] = resumedAfter;
    let timedOut = false;
    // Only the wait for the headers is timed: the body is a stream that lasts as long as the server keeps it.
    const timer = setTimeout(() => {
      timedOut = true;
      connection.abort();
    }, timeoutMs);
    let res: Response;
    try {
      res = await this.target.fetch(url, { method: "GET", headers, signal: connection.signal });
    } catch (err) {
      const failure = timedOut
        ? new CoordinatorError(0, "timeout", `events: no answer from ${this.target.baseUrl} within ${timeoutMs} ms`)
        : new CoordinatorError(0, "unreachable", `events: cannot reach the coordinator at ${this.target.baseUrl}`, {
            cause: networkCause(err),
          });
      return { failure, retryAfterMs: null };
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const failure = await toError(res);
      if (!transient(res.status)) throw failure;
      return { failure, retryAfterMs: retryAfterMs(res) };
    }
    const type = res.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("text/event-stream") || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new CoordinatorError(
        res.status,
        "not_event_stream",
        `events: ${url} answered ${type || "no content type"}, not an event stream: is baseUrl the coordinator?`,
      );
    }
    return { body: res.body };
  }

  /** Reads one connection's body, yielding its events; answers why it ended. */
  async *#read(
    body: ReadableStream<Uint8Array>,
    parser: ServerSentEventParser,
    connection: AbortController,
    idleMs: number,
  ): AsyncGenerator<StreamEvent, Ended> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let idle = false;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idle = true;
        connection.abort();
        void reader.cancel().catch(() => {});
      }, idleMs);
    };
    try {
      arm();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch {
          if (this.#closer.signal.aborted) return "closed";
          return idle ? "idle" : "server";
        }
        if (chunk.done) {
          if (this.#closer.signal.aborted) return "closed";
          return idle ? "idle" : "server";
        }
        arm();
        for (const message of parser.feed(decoder.decode(chunk.value, { stream: true }))) {
          const event = toEvent(message);
          // The id advances with each event the loop receives, so a resume repeats nothing it already had.
          this.#lastEventId = message.lastEventId || this.#lastEventId;
          if (event) yield event;
        }
        // Every complete message is now received (one with an id and no data moves the resume point too).
        if (parser.committedId) this.#lastEventId = parser.committedId;
      }
    } finally {
      clearTimeout(idleTimer);
      // Also when the loop broke out mid-stream: cancelling closes the connection.
      void reader.cancel().catch(() => {});
    }
  }
}
