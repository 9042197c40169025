/**
 * The lock service: one SQL function call per attempt, refusals turned into actionable ApiErrors by the capability's
 * refusal table. The bounded wait lives here because it spans attempts; each attempt is still one atomic round trip.
 */
import { z } from "zod";
import { armWait } from "../events/wait.ts";
import { ApiError } from "../http/errors.ts";
import { callOp, callOutcome, refusalError } from "../ops/call.ts";
import { decodeCursor, encodeCursor } from "../ops/paging.ts";
import { quotaCap } from "../ops/quotas.ts";
import type { OpContext } from "../types.ts";
import { describeLocks, lockRefusals } from "./refusals.ts";
import type { AcquireOut, CheckOut, Lock, ReleaseOut, VerifyOut } from "./schemas.ts";

/** A safety net only: waiters are woken by the event feed; this bounds a wait if the feed falls behind. */
const RECHECK_MS = 2_000;

/** Kinds after which a blocked acquire may succeed. */
const FREEING = new Set(["lock.released", "lock.expired", "lock.force_released"]);

/** Input of an acquire, after validation and normalisation. */
export interface AcquireInput {
  repo: string;
  keys: string[];
  reason: string | null;
  ttlMinutes: number;
  waitSeconds: number;
}

type Acquired = Omit<z.output<typeof AcquireOut>, "waited_ms">;

/**
 * Acquires all keys or none. With `waitSeconds > 0`, a conflict is retried when a blocking lock is released or
 * expires (woken by its event on the app's event feed, or at the blocker's expiry), until the wait runs out.
 */
export async function acquireLocks(ctx: OpContext, input: AcquireInput): Promise<z.output<typeof AcquireOut>> {
  const started = Date.now();
  const deadline = started + input.waitSeconds * 1000;
  const armed = input.waitSeconds > 0 ? await armWait(ctx.feed) : null;
  const params = [
    input.repo,
    ctx.identity.agentId,
    ctx.identity.sessionId,
    input.keys,
    input.reason,
    input.ttlMinutes * 60,
    quotaCap(ctx, ctx.config.quotas.heldLocks),
  ];
  try {
    for (;;) {
      const { result, refusal } = await callOutcome<Acquired>(ctx.db, "coord.acquire_locks", params);
      if (result) return { ...result, waited_ms: Date.now() - started };
      if (refusal.code !== "lock_conflict" || !armed || Date.now() >= deadline) {
        const waited = armed && refusal.code === "lock_conflict" ? { waited_seconds: input.waitSeconds } : {};
        throw refusalError(lockRefusals, { ...refusal, ...waited }, "coord.acquire_locks");
      }
      const conflicts = refusal.conflicts as Lock[];
      // The database's own clock says how far off each blocker's expiry is, so app and db clocks need not agree.
      const now = Date.now();
      const dbNow = Date.parse(refusal.now as string);
      const soonestExpiry = Math.min(...conflicts.map((c) => Date.parse(c.expires_at) - dbNow)) + now + 5;
      const blocking = new Set(conflicts.map((c) => c.key));
      await armed.wait(
        (n) => FREEING.has(n.kind) && blocking.has(n.subject ?? ""),
        Math.min(deadline, soonestExpiry, now + RECHECK_MS),
      );
    }
  } finally {
    armed?.dispose();
  }
}

/** Releases the caller's locks on exactly these keys; `force` (admin only) releases anyone's. */
export function releaseLocks(
  ctx: OpContext,
  repo: string,
  keys: string[],
  force: boolean,
): Promise<z.output<typeof ReleaseOut>> {
  return callOp(ctx.db, "coord.release_locks", [repo, ctx.identity.agentId, keys, force], lockRefusals);
}

/** Live locks overlapping the keys (or all in the repo when none are given). */
export async function checkLocks(
  ctx: OpContext,
  repo: string,
  keys: string[],
  limit: number,
  cursor: string | undefined,
): Promise<z.output<typeof CheckOut>> {
  const after = decodeCursor(cursor, LockKeyCursor);
  const r = await callOp<Omit<z.output<typeof CheckOut>, "next_cursor"> & { next_cursor: string | null }>(
    ctx.db,
    "coord.check_locks",
    [repo, keys, limit, after],
    lockRefusals,
  );
  return { ...r, next_cursor: encodeCursor(r.next_cursor) };
}

/** What a check_locks cursor holds: the last key of the page. */
const LockKeyCursor = z.string().min(1).max(1024);

/** Confirms that `agentId` holds `key` (directly or by a covering scope) under `token`, or refuses with lock_lost. */
export async function verifyLock(
  ctx: OpContext,
  repo: string,
  agentId: string,
  key: string,
  token: number,
): Promise<z.output<typeof VerifyOut>> {
  const r = await callOp<{ held: boolean; current: Lock[] }>(
    ctx.db,
    "coord.verify_lock",
    [repo, agentId, key, token],
    lockRefusals,
  );
  const lock = r.current.find((l) => l.agent_id === agentId && l.token === token);
  if (!r.held || !lock) {
    const now = r.current.length ? `now held: ${describeLocks(r.current)}` : "no one holds it now";
    throw new ApiError(
      409,
      "lock_lost",
      `Lock lost: ${agentId} no longer holds ${key} with token ${token} (expired, released or taken since); ${now}. ` +
        "Do not write under it: re-acquire, then redo the work.",
      { current: r.current },
    );
  }
  return { repo, key, agent_id: agentId, token, held: true, lock };
}
