/** What each refusal of the gateway's SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";
import { invalidCursor } from "../ops/paging.ts";
import { defineConstraints } from "../db/errors.ts";

export const verificationRefusals = defineRefusals({
  lock_lost: (r) => {
    const lost = r.lost as Array<{ path?: string; token: number }>;
    const named = lost.map((l) => `${l.path ?? "(any path)"} token ${l.token}`).join(", ");
    return new ApiError(
      409,
      "lock_lost",
      `Lock no longer held: ${named}. Another agent may have changed these files since; re-acquire, re-check your ` +
        "change against the current code, and submit again. Nothing was recorded.",
      { lost },
    );
  },
  not_found: (r) =>
    new ApiError(
      404,
      "not_found",
      `No changeset ${r.changeset_id ?? `for ${r.repo}@${r.commit_sha}`}; submit_changes answers the id.`,
    ),
  not_manual: () => new ApiError(409, "not_manual", "This changeset has no tier-4 step to review."),
  already_reviewed: (r) =>
    new ApiError(409, "already_reviewed", `Already ${r.status} by ${r.reported_by}; a review is final.`),
  result_not_found: () => new ApiError(404, "not_found", "No such verification result."),
  invalid_cursor: () => invalidCursor(),
  manual_tier: () =>
    new ApiError(403, "manual_tier", "Tier 4 is completed only by an admin review or GitHub's Approve action."),
});

/** The gateway's checks on caller input, for anything validation lets through (the 400 names the field). */
export const verificationConstraints = defineConstraints({
  "changesets.changesets_repo_check": { field: "repo", message: "owner/name" },
  "changesets.changesets_branch_check": { field: "branch", message: "1 to 255 characters" },
  "changesets.changesets_commit_sha_check": { field: "commit_sha", message: "40 lowercase hex digits" },
  "verification_results.verification_results_summary_check": { field: "summary", message: "at most 2000 characters" },
  "webhook_deliveries.webhook_deliveries_delivery_id_check": {
    field: "X-GitHub-Delivery",
    message: "1 to 200 characters",
  },
});
