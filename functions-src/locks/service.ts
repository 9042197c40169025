/**
 * The lock service: one SQL function call per attempt, refusals turned into actionable ApiErrors. The bounded wait
 * lives here because it spans attempts; each attempt is still one atomic round trip.
 */
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import type { OpContext } from "../types.ts";
import { armWait } from "../db/wakeup.ts";

/** A lock as the SQL functions render it. */
export interface LockRow {
  key: string;
  agent_id: string;
  reason: string | null;
  token: number;
  acquired_at: string;
  expires_at: string;
}

type Refusal = { ok: false; code: string; message?: string; key?: string };
type Answer<T> = ({ ok: true } & T) | Refusal;

/** A safety net only: waiters are woken by notifications; this bounds a wait if one is ever missed. */
const RECHECK_MS = 2_000;

/** HH:MM:SSZ: enough for an agent to judge how long to wait. */
export function clock(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

function refusal(r: Refusal, repo: string): ApiError {
  switch (r.code) {
    case "unknown_repo":
      return new ApiError(
        404,
        "unknown_repo",
        `No lock has ever been taken in repo '${repo}'; check the repo name (omit it for 'default').`,
        { repo },
      );
    case "invalid_key":
      return new ApiError(
        400,
        "invalid_input",
        `Invalid lock key ${JSON.stringify(r.key)}; send a normalised repo-relative path.`,
        { field: "file_paths" },
      );
    default:
      return new ApiError(400, "invalid_input", `Invalid input — ${r.message ?? r.code}`);
  }
}

function describeLocks(locks: LockRow[]): string {
  const shown = locks
    .slice(0, 3)
    .map((l) => `${l.key} by ${l.agent_id} until ${clock(l.expires_at)}${l.reason ? ` (${l.reason})` : ""}`);
  return shown.join("; ") + (locks.length > 3 ? `; and ${locks.length - 3} more` : "");
}

/** Input of an acquire, after validation and normalisation. */
export interface AcquireInput {
  repo: string;
  keys: string[];
  reason: string | null;
  ttlMinutes: number;
  waitSeconds: number;
}

export interface AcquireOutput {
  repo: string;
  locks: Array<LockRow & { refreshed: boolean }>;
  waited_ms: number;
}

/**
 * Acquires all keys or none. With `waitSeconds > 0`, a conflict is retried when a blocking lock is released or
 * expires (woken by NOTIFY on coord_lock, or at the blocker's expiry), until the wait runs out.
 */
/** Kinds after which a blocked acquire may succeed. */
const FREEING = new Set(["lock.released", "lock.expired", "lock.force_released"]);

export async function acquireLocks(ctx: OpContext, input: AcquireInput): Promise<AcquireOutput> {
  const started = Date.now();
  const deadline = started + input.waitSeconds * 1000;
  const armed = input.waitSeconds > 0 ? await armWait(ctx.db, "coord_lock") : null;
  try {
    for (;;) {
      const r = await callJson<Answer<{ locks: AcquireOutput["locks"]; conflicts: LockRow[]; now: string }>>(
        ctx.db,
        "coord.acquire_locks",
        [input.repo, ctx.identity.agentId, ctx.identity.sessionId, input.keys, input.reason, input.ttlMinutes * 60],
      );
      if (r.ok) return { repo: input.repo, locks: r.locks, waited_ms: Date.now() - started };
      if (r.code !== "lock_conflict") throw refusal(r, input.repo);
      const conflicts = (r as unknown as { conflicts: LockRow[]; now: string }).conflicts;
      const now = Date.now();
      if (!armed || now >= deadline) {
        const waited = armed ? ` after waiting ${input.waitSeconds}s` : "";
        throw new ApiError(
          409,
          "lock_conflict",
          `Locked: ${describeLocks(conflicts)}. Nothing was taken${waited}. Retry with wait_seconds (≤20), work on something else, or ask the holder.`,
          { conflicts },
        );
      }
      // The database's own clock says how far off each blocker's expiry is, so app and db clocks need not agree.
      const dbNow = Date.parse((r as unknown as { now: string }).now);
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

export interface ReleaseOutput {
  repo: string;
  released: Array<{ key: string; token: number; holder: string }>;
  not_held: Array<{ key: string; held_by: { agent_id: string; key: string; expires_at: string } | null }>;
  released_at: string;
}

/** Releases the caller's locks on exactly these keys; `force` (admin only) releases anyone's. */
export async function releaseLocks(
  ctx: OpContext,
  repo: string,
  keys: string[],
  force: boolean,
): Promise<ReleaseOutput> {
  const r = await callJson<Answer<ReleaseOutput> & { held?: LockRow[] }>(ctx.db, "coord.release_locks", [
    repo,
    ctx.identity.agentId,
    keys,
    force,
  ]);
  if (r.ok) return { repo: r.repo, released: r.released, not_held: r.not_held, released_at: r.released_at };
  if (r.code === "not_holder") {
    const held = (r as { held?: LockRow[] }).held ?? [];
    throw new ApiError(
      403,
      "not_holder",
      `Not yours: ${describeLocks(held)}. Nothing was released; only the holder may release (an admin key may pass force: true).`,
      { held },
    );
  }
  throw refusal(r, repo);
}

export interface CheckOutput {
  repo: string;
  locks: LockRow[];
  truncated: boolean;
  now: string;
}

/** Live locks overlapping the keys (or all in the repo when none are given). */
export async function checkLocks(ctx: OpContext, repo: string, keys: string[], limit: number): Promise<CheckOutput> {
  const r = await callJson<Answer<CheckOutput>>(ctx.db, "coord.check_locks", [repo, keys, limit]);
  if (!r.ok) throw refusal(r, repo);
  return { repo: r.repo, locks: r.locks, truncated: r.truncated, now: r.now };
}

export interface VerifyOutput {
  repo: string;
  key: string;
  agent_id: string;
  token: number;
  held: true;
  lock: LockRow;
}

/** Confirms that `agentId` holds `key` (directly or by a covering scope) under `token`, or refuses with lock_lost. */
export async function verifyLock(
  ctx: OpContext,
  repo: string,
  agentId: string,
  key: string,
  token: number,
): Promise<VerifyOutput> {
  const r = await callJson<Answer<{ held: boolean; current: LockRow[] }>>(ctx.db, "coord.verify_lock", [
    repo,
    agentId,
    key,
    token,
  ]);
  if (!r.ok) throw refusal(r, repo);
  const lock = r.current.find((l) => l.agent_id === agentId && l.token === token);
  if (!r.held || !lock) {
    const now = r.current.length ? `now held: ${describeLocks(r.current)}` : "no one holds it now";
    throw new ApiError(
      409,
      "lock_lost",
      `Lock lost: ${agentId} no longer holds ${key} with token ${token} (expired, released or taken since); ${now}. Do not write under it: re-acquire, then redo the work.`,
      { current: r.current },
    );
  }
  return { repo, key, agent_id: agentId, token, held: true, lock };
}
