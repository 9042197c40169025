/** What each refusal of the locks SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { quotaError } from "../ops/quotas.ts";
import { defineRefusals } from "../ops/call.ts";
import { defineConstraints } from "../db/errors.ts";
import type { HeldLock } from "./schemas.ts";

/** HH:MM:SSZ: enough for an agent to judge how long to wait. */
export function clock(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

/** Whole seconds from `from` to `to` (ISO instants, both from the database's clock). */
function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

/**
 * One lock as a refusal names it: key, holder, and what matters for deciding to wait — whether the holder is alive
 * (then it keeps the lock while it runs), stopped responding (then it goes at its expiry), or has no heartbeating
 * session (then its TTL bounds it). `now` is the database's time of the refusal.
 */
export function describeLock(l: HeldLock, now?: string): string {
  const reason = l.reason ? ` for '${l.reason}'` : "";
  const h = l.holder;
  if (h?.last_heartbeat_at && now && h.state === "alive") {
    return `${l.key} by ${l.agent_id} (alive, last heartbeat ${secondsBetween(h.last_heartbeat_at, now)} s ago)${reason}`;
  }
  if (h?.last_heartbeat_at && now && (h.state === "unresponsive" || h.state === "dead")) {
    return (
      `${l.key} by ${l.agent_id}, whose session stopped responding ${secondsBetween(h.last_heartbeat_at, now)} s ` +
      `ago; released at ${clock(l.expires_at)} unless it heartbeats again${reason}`
    );
  }
  return `${l.key} by ${l.agent_id} until ${clock(l.expires_at)}${reason}`;
}

/** Up to three locks, as a refusal names them. */
export function describeLocks(locks: HeldLock[], now?: string): string {
  const shown = locks.slice(0, 3).map((l) => describeLock(l, now));
  return shown.join("; ") + (locks.length > 3 ? `; and ${locks.length - 3} more` : "");
}

/** What to do about a conflict, from the holders' liveness. */
function nextStep(locks: HeldLock[]): string {
  const states = new Set(locks.map((l) => l.holder?.state ?? "none"));
  if (states.has("unresponsive") || states.has("dead")) {
    return "Retry with wait_seconds (≤20) to take it when it is released, or work on something else.";
  }
  if (states.size === 1 && states.has("alive")) {
    return "Its holder is alive and keeps it while it runs: work on something else or ask the holder, and retry later.";
  }
  return "Retry with wait_seconds (≤20), work on something else, or ask the holder.";
}

export const lockRefusals = defineRefusals({
  unknown_repo: (r) =>
    new ApiError(
      404,
      "unknown_repo",
      `No lock has ever been taken in repo '${r.repo}'; check the repo name (omit it for 'default').`,
      { repo: r.repo },
    ),
  invalid_key: (r) =>
    new ApiError(
      400,
      "invalid_input",
      `Invalid lock key ${JSON.stringify(r.key)}; send a normalised repo-relative path.`,
      {
        field: "file_paths",
      },
    ),
  invalid_input: (r) => new ApiError(400, "invalid_input", `Invalid input — ${r.message}`),
  // `waited_seconds` is added by a bounded wait that gave up (locks/service.ts).
  lock_conflict: (r) => {
    const conflicts = r.conflicts as HeldLock[];
    const waited = r.waited_seconds ? ` after waiting ${r.waited_seconds}s` : "";
    return new ApiError(
      409,
      "lock_conflict",
      `Locked: ${describeLocks(conflicts, r.now as string)}. Nothing was taken${waited}. ${nextStep(conflicts)}`,
      { conflicts },
    );
  },
  quota_exceeded: (r) =>
    quotaError(
      "held_locks",
      `Over the lock quota: you hold ${r.held} live locks and asked for ${r.requested} more; at most ${r.max} per ` +
        "agent. Release locks you no longer need (release_lock), then retry.",
      30,
      { max: r.max, held: r.held },
    ),
  not_holder: (r) => {
    const held = r.held as HeldLock[];
    return new ApiError(
      403,
      "not_holder",
      `Not yours: ${describeLocks(held, r.now as string)}. Nothing was released; only the holder may release (an ` +
        "admin key may pass force: true).",
      { held },
    );
  },
});

/** The locks' checks on caller input, for anything validation lets through (the 400 names the field). */
export const lockConstraints = defineConstraints({
  "locks.locks_key_check": { field: "file_paths", message: "a normalised repo-relative path or scoped key" },
  "locks.locks_reason_check": { field: "reason", message: "at most 500 characters" },
  "locks.locks_ttl_seconds_check": { field: "ttl_minutes", message: "1 to 480" },
  "lock_repos.lock_repos_repo_check": {
    field: "repo",
    message: "at most 200 of letters, digits and ._@- in /-separated segments",
  },
});
