/** What each refusal of the locks SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { quotaError } from "../ops/quotas.ts";
import { defineRefusals } from "../ops/call.ts";
import { defineConstraints } from "../db/errors.ts";
import type { Lock } from "./schemas.ts";

/** HH:MM:SSZ: enough for an agent to judge how long to wait. */
export function clock(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

/** Up to three locks, as a refusal names them: key, holder, expiry, reason. */
export function describeLocks(locks: Lock[]): string {
  const shown = locks
    .slice(0, 3)
    .map((l) => `${l.key} by ${l.agent_id} until ${clock(l.expires_at)}${l.reason ? ` (${l.reason})` : ""}`);
  return shown.join("; ") + (locks.length > 3 ? `; and ${locks.length - 3} more` : "");
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
    const conflicts = r.conflicts as Lock[];
    const waited = r.waited_seconds ? ` after waiting ${r.waited_seconds}s` : "";
    return new ApiError(
      409,
      "lock_conflict",
      `Locked: ${describeLocks(conflicts)}. Nothing was taken${waited}. Retry with wait_seconds (≤20), work on ` +
        "something else, or ask the holder.",
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
    const held = r.held as Lock[];
    return new ApiError(
      403,
      "not_holder",
      `Not yours: ${describeLocks(held)}. Nothing was released; only the holder may release (an admin key may pass force: true).`,
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
