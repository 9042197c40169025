import { type Db, rootOf } from "./port.ts";

/**
 * One LISTEN per database and channel, shared by every listener of the process (several apps on one database in
 * tests; the event feed of each).
 */

interface Hub {
  subscribers: Set<(payload: string) => void>;
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
    const subscribers = new Set<(payload: string) => void>();
    // Where LISTEN is unavailable (a transaction pooler) nothing arrives: listeners must poll on their own timer.
    const listening = db
      .listen(channel, (payload) => {
        for (const s of subscribers) s(payload);
      })
      .then(
        () => undefined,
        () => {
          // Not listening (the database was down): the next caller tries again; this one polls meanwhile.
          if (byChannel!.get(channel) === h) byChannel!.delete(channel);
        },
      );
    h = { subscribers, listening };
    byChannel.set(channel, h);
  }
  return h;
}

/**
 * Calls `handler` with the payload of every notification on `channel`, over the process's one LISTEN for it.
 * Resolves once listening (or once LISTEN failed: then nothing arrives, and the caller's own timer must do).
 * Returns the function that stops the calls.
 */
export async function onNotice(db: Db, channel: string, handler: (payload: string) => void): Promise<() => void> {
  const h = hub(db, channel);
  h.subscribers.add(handler);
  await h.listening;
  return () => {
    h.subscribers.delete(handler);
  };
}
