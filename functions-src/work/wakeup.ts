import type { Db } from "../db/port.ts";

/** Event kinds after which a waiting worker may find ready work. Claims and renewals wake nobody. */
const WAKING_KINDS = new Set(["task.submitted", "task.completed", "task.released", "task.retry_scheduled"]);

interface Hub {
  waiters: Set<() => void>;
  listening: Promise<boolean>;
}

const hubs = new WeakMap<Db, Hub>();

function hubFor(db: Db): Hub {
  let hub = hubs.get(db);
  if (!hub) {
    const waiters = new Set<() => void>();
    // One LISTEN per database handle, shared by every waiting request. If LISTEN is unavailable (a transaction
    // pooler), waiters fall back to their timeout, which the caller keeps short.
    const listening = db.listen("coord_task", (payload) => {
      let kind = "";
      try { kind = (JSON.parse(payload) as { kind?: string }).kind ?? ""; } catch { /* not ours */ }
      if (!WAKING_KINDS.has(kind)) return;
      for (const wake of [...waiters]) wake();
    }).then(() => true, () => false);
    hub = { waiters, listening };
    hubs.set(db, hub);
  }
  return hub;
}

/** A wake-up armed before looking for work, so a notification between the look and the wait is not lost. */
export interface Wakeup {
  /** Resolves on a relevant notification or after `ms`, whichever is first. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

/** Arms a wake-up on the `coord_task` channel (db.listen). */
export async function armWakeup(db: Db): Promise<Wakeup> {
  const hub = hubFor(db);
  await hub.listening;
  let fired = false;
  let resolve: (() => void) | null = null;
  const wake = () => {
    fired = true;
    resolve?.();
  };
  hub.waiters.add(wake);
  return {
    wait(ms) {
      if (fired) return Promise.resolve();
      return new Promise<void>((r) => {
        const timer = setTimeout(r, ms);
        resolve = () => { clearTimeout(timer); r(); };
      });
    },
    cancel() { hub.waiters.delete(wake); },
  };
}
