/**
 * Group commit at the application level. On the hot paths (lock acquire/release, task claim/complete) a call that
 * arrives while an earlier one is still running waits for it, and every call that waited goes to the database
 * together as one `coord.run_*_calls` statement: one round trip and one commit (one fsync) for all of them, each
 * with its own answer. A call that arrives when nothing runs goes at once, alone, so a single agent pays nothing.
 *
 * Calls in a group run one after the other in one transaction, exactly as they would have one by one in some order;
 * an error in one aborts the group, which is then run call by call so that the error stays that call's alone.
 * Calls made with an actor (an admin acting as an agent) set a transaction-local setting and always go alone.
 */
import type { Logger } from "../http/log.ts";
import { isUnavailable } from "./errors.ts";
import { callJson, type Db, type Queryable, rootOf } from "./port.ts";

/** One SQL statement that runs a group: the runner function and the functions it may run. */
export interface GroupSpec {
  runner: string;
  functions: readonly string[];
}

/**
 * The lock and queue hot paths (supabase/schemas/{locks,work}/api/run_*_calls.sql). One group in flight per spec:
 * two lock groups in flight could take the same keys' locks in different orders and deadlock (Postgres aborts one
 * after deadlock_timeout); a second lane measured no faster on two cores (docs/LOCKS.md, "Performance").
 */
export const GROUPS: readonly GroupSpec[] = [
  { runner: "coord.run_lock_calls", functions: ["coord.acquire_locks", "coord.release_locks"] },
  { runner: "coord.run_work_calls", functions: ["coord.claim_tasks", "coord.complete_tasks"] },
];

// A group carries at most this many calls; more wait for the next one (a statement's cost grows with its calls).
const MAX_GROUP = 64;

interface Pending {
  fn: string;
  params: unknown[];
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Whether the server answered the statement with an error (a SQLSTATE outside class 08, connection exceptions). */
function answeredByServer(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08");
}

/** Stats a bench or test can read: calls made and the statements that carried them. */
export interface GroupStats {
  calls: number;
  statements: number;
  fallbacks: number;
}

class Lane {
  #queue: Pending[] = [];
  #running = false;
  constructor(
    private readonly db: Db,
    private readonly spec: GroupSpec,
    private readonly log: Logger,
    private readonly stats: GroupStats,
  ) {}

  submit(fn: string, params: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ fn, params, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, MAX_GROUP);
        this.stats.calls += group.length;
        this.stats.statements++;
        if (group.length === 1) {
          const [p] = group;
          await callJson(this.db, p!.fn, p!.params).then(p!.resolve, p!.reject);
          continue;
        }
        let answers: unknown[];
        try {
          const calls = group.map((p) => ({ fn: p.fn, args: p.params }));
          // As text cast to jsonb: a bare array parameter would be sent as a Postgres array.
          const rows = await this.db.query<{ r: unknown[] }>(`select ${this.spec.runner}($1::text::jsonb) as r`, [
            JSON.stringify(calls),
          ]);
          answers = rows[0]!.r;
        } catch (err) {
          // The connection went away without an answer: whether the group committed is unknown, exactly as for one
          // call, so each caller gets the error (a 503; every one of these operations is safe to retry as sent). An
          // error the server answered (a deadlock with another group, a timeout, one call's exception) means the
          // whole group rolled back.
          if (!answeredByServer(err) && isUnavailable(err)) {
            for (const p of group) p.reject(err);
            continue;
          }
          // Nothing of the group was committed: each call runs again alone and meets its own outcome.
          this.stats.fallbacks++;
          this.log.debug("group commit: running a failed group call by call", { error: (err as Error).message });
          await Promise.all(group.map((p) => callJson(this.db, p.fn, p.params).then(p.resolve, p.reject)));
          continue;
        }
        for (const [i, p] of group.entries()) p.resolve(answers[i]);
      }
    } finally {
      this.#running = false;
    }
  }
}

/**
 * A handle on `db` whose calls of the grouped functions (see GROUPS) are group-committed. Everything else — other
 * calls, transactions, LISTEN, actors — is the database's own.
 */
export function groupCommits(
  db: Db,
  log: Logger,
  groups: readonly GroupSpec[] = GROUPS,
): Db & { groupStats: GroupStats } {
  const root = rootOf(db);
  const stats: GroupStats = { calls: 0, statements: 0, fallbacks: 0 };
  const lanes = new Map<string, Lane>();
  for (const spec of groups) {
    const lane = new Lane(root, spec, log, stats);
    for (const fn of spec.functions) lanes.set(fn, lane);
  }
  return Object.assign(Object.create(root) as Db, {
    root,
    groupStats: stats,
    call<T>(this: Queryable, fn: string, params: unknown[]): Promise<T> | undefined {
      const lane = this.actor ? undefined : lanes.get(fn);
      return lane?.submit(fn, params) as Promise<T> | undefined;
    },
  });
}
