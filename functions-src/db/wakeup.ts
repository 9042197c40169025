import { type Db, rootOf } from "./port.ts";

/** The part of a coord.emit notification a waiter looks at. */
export interface Notice {
  kind: string;
  subject: string | null;
}

/** A wait armed before an attempt, so a notice that arrives between the attempt and the wait is not lost. */
export interface ArmedWait {
  /**
   * Resolves as soon as a notice matching `match` has arrived since arming (or since the previous wait), or at
   * `untilMs` (epoch ms), whichever is first.
   */
  wait(match: (notice: Notice) => boolean, untilMs: number): Promise<void>;
  dispose(): void;
}

// Notices kept between arming and waiting; past this many a waiter just wakes and looks again.
const BUFFER_LIMIT = 1000;

interface Hub {
  subscribers: Set<(n: Notice) => void>;
  listening: Promise<void>;
}

const hubs = new WeakMap<Db, Map<string, Hub>>();

function hub(handle: Db, channel: string): Hub {
  // One hub per database, whatever handle the caller holds (an admin's acting handle is the same database).
  const db = rootOf(handle);
  let byChannel = hubs.get(db);
  if (!byChannel) {
    byChannel = new Map();
    hubs.set(db, byChannel);
  }
  let h = byChannel.get(channel);
  if (!h) {
    const subscribers = new Set<(n: Notice) => void>();
    // One LISTEN per database handle and channel, shared by every waiting request of the process. Where LISTEN is
    // unavailable (a transaction pooler) waits end at their deadline, so waiting degrades to slow polling.
    const listening = db
      .listen(channel, (payload) => {
        let notice: Notice;
        try {
          notice = JSON.parse(payload) as Notice;
        } catch {
          return;
        }
        for (const s of subscribers) s(notice);
      })
      .then(
        () => undefined,
        () => {
          // Not listening (the database was down): the next wait tries again, this one degrades to polling.
          if (byChannel!.get(channel) === h) byChannel!.delete(channel);
        },
      );
    h = { subscribers, listening };
    byChannel.set(channel, h);
  }
  return h;
}

/**
 * Calls `handler` for every notice on a `coord_<capability>` channel, over the same one LISTEN per channel the waits
 * share. Resolves once listening (or once LISTEN failed: then nothing arrives, and the caller's own timer must do).
 * Returns the function that stops the calls.
 */
export async function onNotice(db: Db, channel: string, handler: (notice: Notice) => void): Promise<() => void> {
  const h = hub(db, channel);
  h.subscribers.add(handler);
  await h.listening;
  return () => {
    h.subscribers.delete(handler);
  };
}

/**
 * Arms a wait on a `coord_<capability>` channel (the notifications coord.emit sends). Callers wait for the state
 * they need instead of polling: a lock wait for a release of a blocking key, a worker for ready work.
 */
export async function armWait(db: Db, channel: string): Promise<ArmedWait> {
  const h = hub(db, channel);
  await h.listening;
  let seen: Notice[] = [];
  let overflowed = false;
  let pending: { match: (n: Notice) => boolean; wake: () => void } | null = null;
  const subscriber = (n: Notice) => {
    if (pending) {
      if (pending.match(n)) pending.wake();
    } else if (seen.length < BUFFER_LIMIT) {
      seen.push(n);
    } else {
      overflowed = true;
    }
  };
  h.subscribers.add(subscriber);
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
      h.subscribers.delete(subscriber);
    },
  };
}
