/**
 * The db port: the one interface every service talks to. Two adapters implement it, postgres.js
 * (`postgres.ts`) and PGlite (`pglite.ts`); the same SQL runs on both.
 */

/** Something that runs parameterised SQL: the database itself, or an open transaction. */
export interface Queryable {
  /**
   * Who really acts, when an admin key acts as an agent (set by `actingAs`): function calls made through this handle
   * set `coord.actor` for their transaction, and coord.emit records it in every event they write.
   */
  readonly actor?: string;
  /**
   * Set on a handle that routes some function calls elsewhere (group commit, db/group.ts): answers the call, or
   * undefined to let callJson make it directly.
   */
  call?<T>(fn: string, params: unknown[]): Promise<T> | undefined;
  /** Runs one statement with `$1…$n` parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A handler for `LISTEN`: receives the notification payload. */
export type NotificationHandler = (payload: string) => void;

export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to a `pg_notify` channel; resolves to the function that unsubscribes. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Closes connections (PGlite: checkpoints first, its files are not crash-safe). */
  close(): Promise<void>;
}

/**
 * Calls one SQL function that answers jsonb and returns that value. Every coordination operation is one
 * such call: one round trip, atomic inside the function.
 */
export async function callJson<T>(db: Queryable, fn: string, params: unknown[] = []): Promise<T> {
  const routed = db.call?.<T>(fn, params);
  if (routed) return routed;
  const placeholders = params.map((_, i) => `$${i + 1}`).join(", ");
  if (db.actor) {
    // Still one statement: the materialized CTE sets the actor before the call's row is computed.
    const rows = await db.query<{ r: T }>(
      `with a as materialized (select set_config('coord.actor', $${params.length + 1}, true)) ` +
        `select ${fn}(${placeholders}) as r from a`,
      [...params, db.actor],
    );
    return rows[0]!.r;
  }
  const rows = await db.query<{ r: T }>(`select ${fn}(${placeholders}) as r`, params);
  return rows[0]!.r;
}

/**
 * The same database, with calls recorded as made by `actor` (an admin key acting as an agent). Everything else — the
 * connections, LISTEN, transactions — is the database's own (`root`).
 */
export function actingAs(db: Db, actor: string): Db {
  const root = rootOf(db);
  return Object.assign(Object.create(root) as Db, { actor, root });
}

/** The database a handle made by `actingAs` stands for (itself otherwise). */
export function rootOf(db: Db): Db {
  return (db as Db & { root?: Db }).root ?? db;
}
