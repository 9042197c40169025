/**
 * What a database error means for the caller. Three kinds matter:
 *
 * - **unavailable**: the database cannot answer now (refused or reset connections, a server shutting down or
 *   starting, a terminated backend, no connection free in time, a statement timeout). The caller retries: 503
 *   `unavailable` with Retry-After. Whether a write in flight took effect is unknown; every mutating operation is
 *   safe to retry as it was sent (docs/OPERATIONS.md states the rule per operation).
 * - **a known constraint**: a check the schema makes that validation should have caught first; it maps to a 400
 *   naming the field (each capability declares its constraints next to its refusals).
 * - anything else is a bug: a 500 with the request id, and nothing internal in the answer.
 *
 * Both adapters are covered: postgres.js (error codes on `code`, the constraint on `constraint_name`) and PGlite
 * (`code`, `constraint`).
 */

/** Seconds a caller is told to wait before retrying while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

/** Thrown by the adapters when a query could not even start in time (no connection, a server that never answers). */
export class DatabaseUnavailable extends Error {
  override name = "DatabaseUnavailable";
}

// postgres.js connection errors and Node socket errors.
const UNAVAILABLE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
]);

// SQLSTATEs that say "not now" rather than "not this": try again and it may work.
const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown: the server is stopping, or a backend was terminated
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up, recovering, shutting down
  "57P05", // idle_session_timeout
  "57014", // query_canceled: a statement timeout (or our own deadline cancelling a query)
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available (lock_timeout)
  "25P03", // idle_in_transaction_session_timeout
]);

function fieldOf(err: unknown, ...names: string[]): string | undefined {
  if (err === null || typeof err !== "object") return undefined;
  for (const n of names) {
    const v = (err as Record<string, unknown>)[n];
    if (typeof v === "string" && v) return v;
  }
  return undefined;
}

/** True when the error says the database cannot answer now (see the module comment). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailable) return true;
  const code = fieldOf(err, "code", "errno");
  if (code && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code))) return true;
  // SQLSTATE class 08: connection exceptions; class 53: insufficient resources.
  if (code && /^(08|53)[0-9A-Z]{3}$/.test(code)) return true;
  // PGlite after close, or a fetch-style wrapper around a socket error.
  const message = err instanceof Error ? err.message : "";
  if (/PGlite is closed|database is closed/i.test(message)) return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isUnavailable(cause);
}

/** The `table.constraint` a constraint violation names (SQLSTATE class 23), or null. */
export function violatedConstraint(err: unknown): string | null {
  const code = fieldOf(err, "code");
  if (!code?.startsWith("23")) return null;
  const constraint = fieldOf(err, "constraint_name", "constraint");
  if (!constraint) return null;
  const table = fieldOf(err, "table_name", "table");
  return table ? `${table}.${constraint}` : constraint;
}

/** What a known constraint means to a caller: the field to fix and how. */
export interface ConstraintMeaning {
  field: string;
  message: string;
}

/** A capability's known constraints, by `table.constraint`. */
export type Constraints = Readonly<Record<string, ConstraintMeaning>>;

/** Declares a capability's constraint table. */
export function defineConstraints<C extends Constraints>(constraints: C): C {
  return constraints;
}
