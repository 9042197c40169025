import type { Db } from "../db/port.ts";

/** The part of a `coord_lock` notification a waiter looks at (coord.emit's payload). */
export interface LockNotice {
  kind: string;
  subject: string | null;
}

/** Kinds after which a blocked acquire may succeed. */
const FREEING = new Set(["lock.released", "lock.expired", "lock.force_released"]);

/** A subscription taken before an attempt, so a release between the attempt and the wait is not missed. */
export interface ArmedWait {
  /** Resolves when a freeing notice matching `relevant` arrives (or arrived since arming), or at `untilMs`. */
  wait(relevant: (subject: string) => boolean, untilMs: number): Promise<void>;
  dispose(): void;
}

/**
 * One LISTEN on `coord_lock` per database handle, shared by every waiting request of the process. When LISTEN is
 * unavailable (a transaction pooler) waits still end at their re-check deadline, so waiting degrades to slow
 * polling instead of failing.
 */
class LockWaiter {
  private readonly subscribers = new Set<(n: LockNotice) => void>();
  private listening: Promise<void> | null = null;

  constructor(private readonly db: Db) {}

  private start(): Promise<void> {
    this.listening ??= this.db
      .listen("coord_lock", (payload) => {
        let notice: LockNotice;
        try {
          notice = JSON.parse(payload) as LockNotice;
        } catch {
          return;
        }
        if (!FREEING.has(notice.kind)) return;
        for (const s of this.subscribers) s(notice);
      })
      .then(() => undefined, () => undefined);
    return this.listening;
  }

  async arm(): Promise<ArmedWait> {
    await this.start();
    const seen: string[] = [];
    let wake: (() => void) | null = null;
    let relevant: ((subject: string) => boolean) | null = null;
    const subscriber = (n: LockNotice) => {
      const subject = n.subject ?? "";
      if (relevant && relevant(subject)) wake?.();
      else if (!relevant) seen.push(subject);
    };
    this.subscribers.add(subscriber);
    return {
      wait: (match, untilMs) => {
        relevant = match;
        if (seen.splice(0).some(match)) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
          function done() {
            clearTimeout(timer);
            wake = null;
            relevant = null;
            resolve();
          }
          wake = done;
        });
      },
      dispose: () => {
        this.subscribers.delete(subscriber);
      },
    };
  }
}

const waiters = new WeakMap<Db, LockWaiter>();

/** The process-wide waiter of a database handle. */
export function lockWaiter(db: Db): LockWaiter {
  let w = waiters.get(db);
  if (!w) waiters.set(db, (w = new LockWaiter(db)));
  return w;
}
