import postgres from "postgres";
import { DatabaseUnavailable } from "./errors.ts";
import type { Db, NotificationHandler, Queryable } from "./port.ts";

export interface PostgresOptions {
  /** Pool size. */
  max?: number;
  /**
   * Prepared statements. Off behind Supabase's transaction pooler (Supavisor), which cannot keep them;
   * on for a direct connection, where they save a parse per call.
   */
  prepare?: boolean;
  /** Seconds to wait for a connection before a query fails (keeps /health answering while the db is down). */
  connectTimeout?: number;
  /** Milliseconds a statement may run before the server cancels it (`statement_timeout`); 0 turns it off. */
  statementTimeoutMs?: number;
}

/** The longest pause between reconnection attempts (see `backoff` below). */
const MAX_BACKOFF_SECONDS = 0.25;

/**
 * The postgres.js adapter, for Supabase (`SUPABASE_DB_URL`) and any Postgres 15+ (`DATABASE_URL`).
 *
 * Outages: every wait is bounded, so a request answers (503 `unavailable`, see db/errors.ts) instead of hanging.
 * - A query that has not reached a server within the connect timeout is cancelled and fails: this covers a server
 *   that refuses, one that accepts TCP and closes it (postgres.js would retry that forever), and a pool with no
 *   connection free in time.
 * - A statement runs at most `statement_timeout` on the server, and the adapter stops waiting shortly after that even
 *   when the server has gone silent; a transaction idle for a minute is ended by the server.
 * - Reconnection retries quickly: postgres.js's default backoff grows 3^n/100 s per failed attempt, shared by the
 *   pool, up to 20 s, so after a restart connections came back one every few seconds (F7). Here attempts are at most
 *   MAX_BACKOFF_SECONDS apart, and the pool is back within that once the server accepts connections.
 */
export function createPostgresDb(url: string, options: PostgresOptions = {}): Db {
  const connectTimeout = options.connectTimeout ?? 5;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const startMs = connectTimeout * 1000 + 1000;
  // Past the server's own statement timeout: it answers first when it can; this is for when it cannot.
  const answerMs = startMs + (statementTimeoutMs > 0 ? statementTimeoutMs + 5_000 : 10 * 60_000);
  const sql = postgres(url, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    connect_timeout: connectTimeout,
    idle_timeout: 60,
    backoff: (attempt: number) => Math.min(0.02 * 2 ** attempt, MAX_BACKOFF_SECONDS),
    onnotice: () => {},
    // jsonb comes back parsed; bigint stays a string unless a function shapes it into jsonb first.
    types: {},
    connection: {
      application_name: "agent-coordinator",
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: 60_000,
    },
  });

  /** Waits for a query within the bounds above; cancels it when they pass. */
  function bounded<T>(query: PromiseLike<unknown>): Promise<T> {
    const q = query as unknown as { state: unknown; cancel(): void } & Promise<T>;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(startTimer);
        clearTimeout(answerTimer);
        fn();
      };
      const giveUp = (why: string) => {
        try {
          q.cancel();
        } catch {
          /* already finished */
        }
        finish(() => reject(new DatabaseUnavailable(why)));
      };
      const startTimer = setTimeout(() => {
        if (!q.state) giveUp(`no database connection within ${startMs} ms`);
      }, startMs);
      const answerTimer = setTimeout(() => giveUp(`no answer from the database within ${answerMs} ms`), answerMs);
      q.then(
        (v) => finish(() => resolve(v)),
        (e) => finish(() => reject(e)),
      );
    });
  }

  const wrap = (q: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await bounded(q.unsafe(text, params as postgres.ParameterOrJSON<never>[]))) as T[];
    },
    async exec(text: string) {
      // No parameters: the simple query protocol, which accepts several statements.
      await bounded(q.unsafe(text).simple());
    },
  });

  /** A promise that fails with DatabaseUnavailable after `ms` unless it settles first. */
  function deadline<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout>;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailable(why)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  return {
    kind: "postgres",
    ...wrap(sql),
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      // Statements inside are bounded one by one; this bounds getting a connection for BEGIN. A transaction that
      // starts after its caller gave up rolls back at once.
      return new Promise<T>((resolve, reject) => {
        let started = false;
        let abandoned = false;
        const timer = setTimeout(() => {
          if (started) return;
          abandoned = true;
          reject(new DatabaseUnavailable(`no database connection for a transaction within ${startMs} ms`));
        }, startMs);
        (
          sql.begin((tx) => {
            if (abandoned) throw new DatabaseUnavailable("transaction abandoned by its caller");
            started = true;
            return fn(wrap(tx));
          }) as Promise<T>
        ).then(
          (v) => {
            clearTimeout(timer);
            if (!abandoned) resolve(v);
          },
          (e) => {
            clearTimeout(timer);
            if (!abandoned) reject(e);
          },
        );
      });
    },
    async listen(channel: string, handler: NotificationHandler) {
      const sub = await deadline(sql.listen(channel, handler), startMs, "no database connection to LISTEN on");
      return () => sub.unlisten();
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
