/**
 * Waiting for a state change instead of polling: a lock acquire waits for a blocking key's release, a worker for ready
 * work. The wait follows the app's event feed, so it sees exactly the events committed after it was armed, whichever
 * process wrote them.
 */
import type { EventFeed, StoredEvent } from "./feed.ts";

/** The part of an event a waiter looks at. */
export type Notice = Pick<StoredEvent, "kind" | "subject">;

/** A wait armed before an attempt, so an event committed between the attempt and the wait is not missed. */
export interface ArmedWait {
  /**
   * Resolves as soon as an event matching `match` has arrived since arming (or since the previous wait), or at
   * `untilMs` (epoch ms), whichever is first.
   */
  wait(match: (notice: Notice) => boolean, untilMs: number): Promise<void>;
  dispose(): void;
}

// Events kept between arming and waiting; past this many a waiter just wakes and looks again.
const BUFFER_LIMIT = 1000;

/**
 * Arms a wait: resolves once the feed delivers every event committed from now on (the feed's cursor is then at or
 * past every event the caller's next attempt can see).
 */
export async function armWait(feed: EventFeed): Promise<ArmedWait> {
  let seen: Notice[] = [];
  let overflowed = false;
  let pending: { match: (n: Notice) => boolean; wake: () => void } | null = null;
  const sub = await feed.subscribe((events) => {
    for (const e of events) {
      if (pending) {
        if (pending.match(e)) pending.wake();
      } else if (seen.length < BUFFER_LIMIT) {
        seen.push({ kind: e.kind, subject: e.subject });
      } else {
        overflowed = true;
      }
    }
  });
  return {
    wait(match, untilMs) {
      const hit = overflowed || seen.some(match);
      seen = [];
      overflowed = false;
      if (hit) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          pending = null;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
        pending = { match, wake: done };
      });
    },
    dispose() {
      sub.unsubscribe();
    },
  };
}
