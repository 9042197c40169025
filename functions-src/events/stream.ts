/**
 * One Server-Sent Events stream: the backlog a reconnecting client missed (or a `reset` when it missed too much),
 * then live events from the feed, comment heartbeats, and a clean end before the host's limits so the client
 * reconnects with Last-Event-ID.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import { parseInput } from "../ops/operation.ts";
import type { AppDeps, AppEnv } from "../types.ts";
import type { EventsConfig } from "./config.ts";
import type { EventFeed, StoredEvent } from "./feed.ts";
import { type EventFilter, frame, KindFilter, matches, type Viewer, visible } from "./view.ts";

/** What the events capability keeps per app: the feed, the open streams, and when the host started. */
export interface EventsState {
  feed: EventFeed;
  config: EventsConfig;
  /** Epoch ms of the app's start: the wall-clock limit of an edge worker counts from here. */
  startedAt: number;
  open: Set<Outbox>;
}

/** How long a client waits before reconnecting after a stream ends (the SSE `retry` field). */
const RETRY_MS = 1000;
// A reconnecting client further behind than this many times the backlog bound gets a reset without a look at the
// table: the filtered backlog could only be counted by reading all of it.
const SCAN_FACTOR = 100;

const EventId = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The query of `GET /events` (and of the dashboard's stream). */
export const StreamQuery = z.object({
  kinds: z.array(KindFilter).max(20).optional().describe("Kinds or prefixes (lock., task.completed); default all"),
  repo: z.string().min(1).max(200).optional().describe("Only events of this repository (data.repo)"),
  after: EventId.optional().describe("Resume after this event id (Last-Event-ID wins)"),
});

/** Reads the stream's filter and resume point from the request: Last-Event-ID, else `?after=`. */
export function streamRequest(c: Context<AppEnv>): { filter: EventFilter; after: number | null } {
  const kinds = c.req
    .queries("kinds")
    ?.flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  const lastEventId = c.req.header("last-event-id")?.trim();
  const raw = {
    kinds: kinds?.length ? kinds : undefined,
    repo: c.req.query("repo"),
    after: lastEventId || c.req.query("after"),
  };
  const q = parseInput(StreamQuery, raw);
  return { filter: { kinds: q.kinds ?? null, repo: q.repo ?? null }, after: q.after ?? null };
}

/** Frames queued for one stream, written in order by the stream's own loop. */
export class Outbox {
  #frames: string[] = [];
  #wake: (() => void) | null = null;
  closed = false;
  /** Why the stream ended early: the client fell too far behind, or the host is stopping. */
  reason: "overflow" | "shutdown" | null = null;

  constructor(private readonly max: number) {}

  push(f: string): void {
    if (this.closed) return;
    this.#frames.push(f);
    // A client that does not read is dropped rather than buffered without bound; it resumes with Last-Event-ID.
    if (this.#frames.length > this.max) this.close("overflow");
    this.#wake?.();
  }

  take(): string {
    if (this.#frames.length === 0) return "";
    const chunk = this.#frames.length === 1 ? this.#frames[0]! : this.#frames.join("");
    this.#frames = [];
    return chunk;
  }

  wait(ms: number): Promise<void> {
    if (this.#frames.length > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  close(reason: "overflow" | "shutdown" | null = null): void {
    if (this.closed) return;
    this.closed = true;
    this.reason = reason;
    this.#wake?.();
  }
}

function resetFrame(cursor: number, reason: string, details: Record<string, unknown>): string {
  return `id: ${cursor}\nevent: reset\ndata: ${JSON.stringify({ reason, cursor, ...details })}\n\n`;
}

/**
 * What a client resuming after `after` missed, up to the feed's cursor: its frames, or a reset frame when there is
 * more than the backlog bound (or the id is one this database never handed out).
 */
async function backlog(
  deps: AppDeps,
  state: EventsState,
  viewer: Viewer,
  filter: EventFilter,
  after: number,
  cursor: number,
): Promise<string> {
  const max = state.config.backlog;
  if (after > Math.max(cursor, state.feed.head)) {
    return resetFrame(cursor, "unknown_event_id", { after });
  }
  if (after >= cursor) return "";
  if (cursor - after > max * SCAN_FACTOR) return resetFrame(cursor, "backlog_exceeded", { after, max });
  const { events } = await callJson<{ events: StoredEvent[] }>(deps.db, "coord.list_events", [
    viewer.agentId,
    viewer.admin,
    after,
    cursor + 1,
    filter.kinds,
    filter.repo,
    null,
    null,
    false,
    max + 1,
  ]);
  if (events.length > max) return resetFrame(cursor, "backlog_exceeded", { after, max });
  return events.map((e) => frame({ ...e, id: Number(e.id) }, viewer)).join("");
}

/** When this stream must end: its own limit, and before the host's wall clock runs out. */
function deadlineOf(state: EventsState): number {
  const { streamSeconds, wallClockSeconds } = state.config;
  let deadline = Number.POSITIVE_INFINITY;
  if (streamSeconds > 0) deadline = Date.now() + streamSeconds * 1000;
  if (wallClockSeconds > 0) deadline = Math.min(deadline, state.startedAt + wallClockSeconds * 900);
  return deadline;
}

/**
 * Answers an event stream for `viewer`. The subscription and the backlog are read before the response starts, so a
 * database that cannot answer is a 503 (or whatever its error maps to), not a stream that never speaks.
 */
export async function openEventStream(
  c: Context<AppEnv>,
  deps: AppDeps,
  state: EventsState,
  viewer: Viewer,
  request: { filter: EventFilter; after: number | null },
): Promise<Response> {
  const { filter, after } = request;
  if (state.open.size >= state.config.maxStreams) {
    c.header("Retry-After", "5");
    throw new ApiError(503, "too_many_streams", "This server holds as many event streams as it may; retry shortly.");
  }
  const box = new Outbox(Math.max(state.config.backlog, 1000) * 2);
  let skipUpTo = after ?? 0;
  // A resuming stream starts after whatever is committed now, so what it missed is counted as backlog.
  const sub = await state.feed.subscribe(
    (events) => {
      for (const e of events) {
        if (e.id <= skipUpTo || !visible(e, viewer) || !matches(e, filter)) continue;
        box.push(frame(e, viewer));
      }
    },
    { fresh: after !== null },
  );
  state.open.add(box);
  let preamble: string;
  try {
    preamble = after === null ? "" : await backlog(deps, state, viewer, filter, after, sub.cursor);
  } catch (err) {
    sub.unsubscribe();
    state.open.delete(box);
    throw err;
  }
  // Live events at or below what the backlog (or the client) already has are not sent again.
  skipUpTo = Math.max(skipUpTo, sub.cursor);
  // The stream's position, sent first as an `id` without data (it moves the client's Last-Event-ID, dispatches
  // nothing): a client that loses the connection before any event arrives resumes from here, not from "now".
  const position = skipUpTo;
  const deadline = deadlineOf(state);
  const heartbeatMs = state.config.heartbeatSeconds * 1000;
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => box.close());
    try {
      await stream.write(`retry: ${RETRY_MS}\nid: ${position}\n\n${preamble}`);
      let nextBeat = Date.now() + heartbeatMs;
      while (!box.closed) {
        const chunk = box.take();
        if (chunk) {
          await stream.write(chunk);
          nextBeat = Date.now() + heartbeatMs;
          continue;
        }
        const now = Date.now();
        if (now >= deadline) {
          await stream.write(": stream limit reached; reconnect with Last-Event-ID\n\n");
          break;
        }
        if (now >= nextBeat) {
          await stream.write(": heartbeat\n\n");
          nextBeat = now + heartbeatMs;
          continue;
        }
        await box.wait(Math.min(deadline, nextBeat) - now);
      }
      if (box.reason === "overflow") await stream.write(": too far behind; reconnect with Last-Event-ID\n\n");
      if (box.reason === "shutdown") await stream.write(": server stopping; reconnect with Last-Event-ID\n\n");
    } finally {
      sub.unsubscribe();
      state.open.delete(box);
    }
  });
}
