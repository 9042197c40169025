/**
 * Calling SQL functions from operations. Every API function in `coord` answers either its result or a refusal
 * `{error: {code, …details}}` (`coord.refusal`); a capability maps each code it can meet to the ApiError a caller can
 * act on, in one table (`refusals.ts` beside its operations).
 */
import { callJson, type Queryable } from "../db/port.ts";
import type { ApiError } from "../http/errors.ts";

/** A refusal from SQL: its code and the details it names (ids, holders, states). */
export interface Refusal {
  code: string;
  [detail: string]: unknown;
}

/** Each refusal code a capability's SQL can answer, turned into the error that says what to do next. */
export type Refusals = Readonly<Record<string, (refusal: Refusal) => ApiError>>;

/** Declares a capability's refusal table. */
export function defineRefusals<R extends Refusals>(refusals: R): R {
  return refusals;
}

/** The refusal in an answer, or null when the answer is a result. */
export function refusalOf(answer: unknown): Refusal | null {
  if (answer !== null && typeof answer === "object" && "error" in answer) {
    return (answer as { error: Refusal }).error;
  }
  return null;
}

/**
 * The ApiError a refusal maps to. A code the table does not know is a bug (SQL and the table drifted apart), so it
 * surfaces as an internal error with the request id, not as a guess at what the caller should do.
 */
export function refusalError(refusals: Refusals, refusal: Refusal, fn: string): ApiError {
  const toError = Object.hasOwn(refusals, refusal.code) ? refusals[refusal.code] : undefined;
  if (!toError) throw new Error(`${fn} answered refusal ${refusal.code}, which no refusal table maps`);
  return toError(refusal);
}

/** Calls one SQL function: its result, or the ApiError its refusal maps to. */
export async function callOp<T>(db: Queryable, fn: string, params: unknown[], refusals: Refusals): Promise<T> {
  const answer = await callJson<T | { error: Refusal }>(db, fn, params);
  const refusal = refusalOf(answer);
  if (refusal) throw refusalError(refusals, refusal, fn);
  return answer as T;
}

/** Like callOp, but hands a refusal back to callers that act on it (a lock wait retries on lock_conflict). */
export async function callOutcome<T>(
  db: Queryable,
  fn: string,
  params: unknown[],
): Promise<{ result: T; refusal?: undefined } | { result?: undefined; refusal: Refusal }> {
  const answer = await callJson<T | { error: Refusal }>(db, fn, params);
  const refusal = refusalOf(answer);
  return refusal ? { refusal } : { result: answer as T };
}
