/**
 * Announcing changes after they commit. coord.emit only records events: a NOTIFY inside a writing transaction holds
 * Postgres's global notify lock from pre-commit through the commit's fsync, so notifying commits cannot share an
 * fsync and every state change in the system queues behind the previous one. Instead the app announces once its
 * writes are committed: this process's event feed is poked at once, and other processes' feeds by a NOTIFY on
 * `coord_events`, sent from its own empty transaction (no xid, no WAL flush: it holds that lock for microseconds).
 *
 * Notices carry nothing but "look now": the feed reads the events themselves, so a lost, merged or missing notice
 * (a transaction pooler has no LISTEN; pg_cron's sweeps do not announce) costs latency, bounded by the feed's poll
 * interval, never an event.
 */
import type { Db } from "../db/port.ts";
import type { Logger } from "../http/log.ts";

/** The channel every process's event feed listens on. */
export const EVENTS_CHANNEL = "coord_events";

// Announcements that arrive while one NOTIFY is in flight, or within this long after it, ride on the next one:
// under load one NOTIFY per few milliseconds carries every commit, instead of one per write.
const MIN_GAP_MS = 5;

/** What `createAnnouncer` returns: the announce function, and how to stop it before the database closes. */
export interface Announcer {
  announce(): void;
  close(): void;
}

/**
 * `announce()` pokes `local` synchronously and sends at most one NOTIFY at a time (one more after it when
 * announcements came meanwhile). PGlite is one process's own database: nobody else listens, so it only pokes.
 */
export function createAnnouncer(db: Db, log: Logger, local: () => void): Announcer {
  let inFlight = false;
  let again = false;
  let closed = false;

  const send = async () => {
    inFlight = true;
    try {
      do {
        again = false;
        const started = Date.now();
        try {
          await db.query("select pg_notify($1, '')", [EVENTS_CHANNEL]);
        } catch (err) {
          // The database is away: other processes' feeds poll meanwhile; nothing to retry here.
          log.debug("announce: NOTIFY failed", { error: (err as Error).message });
          again = false;
        }
        const gap = MIN_GAP_MS - (Date.now() - started);
        if (again && gap > 0) await new Promise((r) => setTimeout(r, gap));
      } while (again && !closed);
    } finally {
      inFlight = false;
    }
  };

  return {
    announce() {
      local();
      if (db.kind === "pglite" || closed) return;
      if (inFlight) {
        again = true;
        return;
      }
      void send();
    },
    close() {
      closed = true;
    },
  };
}
