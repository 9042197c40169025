import postgres from "postgres";
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
}

/** The postgres.js adapter, for Supabase (`SUPABASE_DB_URL`) and any Postgres 15+ (`DATABASE_URL`). */
export function createPostgresDb(url: string, options: PostgresOptions = {}): Db {
  const sql = postgres(url, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    connect_timeout: options.connectTimeout ?? 5,
    idle_timeout: 60,
    onnotice: () => {},
    // jsonb comes back parsed; bigint stays a string unless a function shapes it into jsonb first.
    types: {},
    connection: { application_name: "agent-coordinator" },
  });

  const wrap = (q: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await q.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
    },
    async exec(text: string) {
      // No parameters: the simple query protocol, which accepts several statements.
      await q.unsafe(text).simple();
    },
  });

  return {
    kind: "postgres",
    ...wrap(sql),
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return sql.begin((tx) => fn(wrap(tx))) as Promise<T>;
    },
    async listen(channel: string, handler: NotificationHandler) {
      const sub = await sql.listen(channel, handler);
      return () => sub.unlisten();
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
