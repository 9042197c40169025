/**
 * The event feed: one follower per app (per server process) reads `coord.events` in id order and hands every event
 * to every subscriber — SSE streams, and requests waiting for a lock's release or for work. A poke wakes it: this
 * app's own writes poke it directly, other processes' by a NOTIFY on coord_events (see announce.ts). The rows are the
 * data, so a lost or coalesced notice, or none at all (behind a transaction pooler), costs latency, never an event.
 *
 * Nothing lost, nothing repeated: `coord.follow_events` only hands out ids up to a bound below which no event can
 * still appear (ids are drawn at insert, not at commit; the SQL explains the ticket that proves the bound). The feed
 * moves its cursor to that bound, so each event passes exactly once, in id order. docs/EVENTS.md has the argument.
 */
import { callJson, type Db } from "../db/port.ts";
import { onNotice } from "../db/wakeup.ts";
import { EVENTS_CHANNEL } from "./announce.ts";
import type { Logger } from "../http/log.ts";

/** Who may see an event (coord.event_audience). */
export type Audience = "all" | "agent" | "admin";

/** One event as coord.follow_events and coord.list_events answer it. */
export interface StoredEvent {
  id: number;
  occurred_at: string;
  kind: string;
  agent_id: string | null;
  session_id: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  audience: Audience;
}

interface FollowAnswer {
  events: StoredEvent[];
  safe: number | null;
  ticket: unknown;
  head: number;
}

/** Receives each batch of new events, in id order, synchronously: it must not block. */
export type FeedListener = (events: readonly StoredEvent[]) => void;

export interface Subscription {
  /** The listener receives every event with an id above this one. */
  cursor: number;
  unsubscribe(): void;
}

// Rows per read; a full page is followed by the next read at once.
const PAGE = 1000;
// After a read that found events, the next one waits a little: 10 ms plus, per event found, 1 ms per 50 subscribers
// (at least 1 ms), at most 100 ms. A burst is then carried by a few reads, and by a few writes per stream (each write
// costs about the same whatever it carries), while a lone event after a quiet spell is read at once.
const batchWindowMs = (found: number, subscribers: number) => Math.min(100, 10 + found * Math.max(1, subscribers / 50));
// While ids above the safe bound exist (transactions still running), look again this soon.
const PENDING_RETRY_MS = 3;
const MAX_BACKOFF_MS = 5000;

interface Entry {
  listener: FeedListener;
  start: number | null;
}

export class EventFeed {
  #cursor: number | null = null;
  #head = 0;
  #ticket: unknown = null;
  readonly #entries = new Map<FeedListener, Entry>();
  #holds = 0;
  #running = false;
  #closed = false;
  #dirty = false;
  #reading = false;
  #afterRead: Array<() => void> = [];
  #wake: (() => void) | null = null;
  #listening: Promise<void> | null = null;
  #stopListening: Array<() => void> = [];
  #waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  /** Follower reads so far (for tests and the bench). */
  reads = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  /** Subscribers now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The highest event id drawn when the feed last looked (some may still be uncommitted). */
  get head(): number {
    return this.#head;
  }

  /**
   * Registers a listener. Resolves with the cursor from which it receives every event, once the feed knows a safe
   * cursor (at once while it runs; after one or two reads otherwise).
   */
  async subscribe(listener: FeedListener, options: { fresh?: boolean } = {}): Promise<Subscription> {
    if (this.#closed) throw new Error("the event feed is closed");
    // A stream resuming from an id counts what it missed up to the cursor it starts at: events committed but not read
    // yet would arrive as live instead, past the backlog bound. So it starts after the read that takes them.
    if (options.fresh && this.#running && this.#cursor !== null && (this.#reading || this.#dirty)) {
      await new Promise<void>((resolve) => this.#afterRead.push(resolve));
    }
    const entry: Entry = { listener, start: this.#cursor };
    this.#entries.set(listener, entry);
    const unsubscribe = () => {
      this.#entries.delete(listener);
    };
    try {
      if (entry.start === null) {
        this.#start();
        await this.#ready();
      }
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return { cursor: entry.start!, unsubscribe };
  }

  /**
   * An id below which every event is final (committed or never to be): the feed's cursor while it runs, else the
   * result of a fresh read. The audit query pages below it, so a later page never misses a late commit.
   */
  async horizon(): Promise<number> {
    if (this.#running && this.#cursor !== null) return this.#cursor;
    this.#holds++;
    try {
      this.#start();
      await this.#ready();
      return this.#cursor!;
    } finally {
      this.#holds--;
    }
  }

  /** Stops following; pending subscriptions fail, and later ones are refused. */
  close(): void {
    this.#closed = true;
    for (const stop of this.#stopListening) stop();
    this.#stopListening = [];
    this.#entries.clear();
    for (const w of this.#waiters.splice(0)) w.reject(new Error("the event feed is closed"));
    this.#wake?.();
  }

  #ready(): Promise<void> {
    if (this.#cursor !== null) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Something was committed: look now (or, while a batch window runs, right after it). */
  poke = (): void => {
    this.#dirty = true;
    this.#wake?.();
  };

  #start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#listening ??= onNotice(this.db, EVENTS_CHANNEL, this.poke).then((stop) => {
      this.#stopListening.push(stop);
    });
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      await this.#listening;
      await this.#follow();
    } finally {
      // Runs in the same turn as the loop's last check: a subscriber that arrives later finds the feed stopped and
      // starts it again at a fresh safe cursor. The cursor is only kept while following.
      this.#running = false;
      this.#cursor = null;
      this.#ticket = null;
      this.#reading = false;
      for (const resolve of this.#afterRead.splice(0)) resolve();
    }
  }

  async #follow(): Promise<void> {
    let backoff = 0;
    while (!this.#closed && (this.#entries.size > 0 || this.#holds > 0)) {
      this.#dirty = false;
      // Idle: wait for a notice, or pollMs at most. Otherwise a fixed short wait (see the constants).
      let delay = this.pollMs;
      let idle = true;
      this.#reading = true;
      try {
        const r = await callJson<FollowAnswer>(this.db, "coord.follow_events", [
          this.#cursor,
          PAGE,
          this.#ticket,
          this.db.kind === "pglite",
        ]);
        this.reads++;
        backoff = 0;
        this.#ticket = r.ticket;
        this.#head = Number(r.head);
        const pending = r.ticket !== null;
        if (this.#cursor === null) {
          if (r.safe !== null) this.#establish(Number(r.safe));
        } else if (r.events.length > 0) {
          const full = r.events.length === PAGE;
          // The cursor moves before the listeners run, so one that subscribes from inside a listener starts after
          // this batch rather than receiving it twice.
          this.#cursor = full ? Number(r.events[r.events.length - 1]!.id) : Number(r.safe);
          this.#fanOut(r.events);
          idle = false;
          // Events flowing: the batch window, even while newer ids are pending; the next read takes them.
          delay = full ? 0 : batchWindowMs(r.events.length, this.#entries.size);
        } else if (r.safe !== null) {
          this.#cursor = Math.max(this.#cursor, Number(r.safe));
        }
        if (idle && pending) {
          idle = false;
          delay = PENDING_RETRY_MS;
        }
      } catch (err) {
        backoff = Math.min(MAX_BACKOFF_MS, backoff ? backoff * 2 : 250);
        delay = backoff;
        idle = false;
        this.log.warn("event feed: read failed", { error: (err as Error).message, retry_ms: backoff });
        if (this.#cursor === null) for (const w of this.#waiters.splice(0)) w.reject(err as Error);
      }
      this.#reading = false;
      // Fresh subscribers waiting for this read start after it (on a failed read, at the cursor they would have had).
      for (const resolve of this.#afterRead.splice(0)) resolve();
      if (delay > 0) await this.#sleep(delay, idle);
    }
  }

  /** Waits `ms`; a notice ends the wait early when `interruptible` (the poll fallback, not the batch window). */
  #sleep(ms: number, interruptible: boolean): Promise<void> {
    if (interruptible && this.#dirty) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = interruptible ? done : () => {};
      if (this.#closed) done();
    });
  }

  #establish(cursor: number): void {
    this.#cursor = cursor;
    for (const e of this.#entries.values()) if (e.start === null) e.start = cursor;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #fanOut(events: StoredEvent[]): void {
    for (const e of events) e.id = Number(e.id);
    for (const entry of [...this.#entries.values()]) {
      try {
        entry.listener(events);
      } catch (err) {
        this.log.error("event feed: a listener failed", { error: (err as Error).message });
      }
    }
  }
}
