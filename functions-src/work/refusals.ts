/** What each refusal of the work queue's SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { quotaError } from "../ops/quotas.ts";
import { defineRefusals, type Refusal } from "../ops/call.ts";
import { invalidCursor } from "../ops/paging.ts";
import { defineConstraints } from "../db/errors.ts";

const holder = (r: Refusal) => (r.claimed_by ? ` (now claimed by ${r.claimed_by})` : "");
const ids = (r: Refusal) => ({ task_id: r.task_id, status: r.status, claimed_by: r.claimed_by ?? null });

/** A refusal of submit_tasks: SQL writes the message, since it knows which task of the batch and why. */
const submitRefusal = (status: 400 | 404) => (r: Refusal) => {
  const { code, message, ...details } = r;
  return new ApiError(status, code, String(message ?? code), details);
};

export const workRefusals = defineRefusals({
  not_found: (r) =>
    new ApiError(404, "not_found", `No task ${r.task_id}; check the id (GET /work/tasks lists tasks).`, {
      task_id: r.task_id,
    }),
  lease_lost: (r) =>
    new ApiError(
      409,
      "lease_lost",
      `Your claim on task ${r.task_id} was lost (lease expired or session ended); it is ${r.status}${holder(r)}. ` +
        "Discard this result and call get_work for new work.",
      ids(r),
    ),
  not_claimant: (r) =>
    new ApiError(
      403,
      "not_claimant",
      `Task ${r.task_id} is ${r.status}${holder(r)}, not claimed by you; only the current claimant with its claim ` +
        "token can do this.",
      ids(r),
    ),
  already_completed: (r) =>
    new ApiError(409, "already_completed", `Task ${r.task_id} is already ${r.status}; nothing changed.`, {
      task_id: r.task_id,
      status: r.status,
    }),
  cancelled: (r) =>
    new ApiError(409, "cancelled", `Task ${r.task_id} was cancelled; discard the work.`, {
      task_id: r.task_id,
      status: "cancelled",
    }),
  not_submitter: (r) =>
    new ApiError(
      403,
      "not_submitter",
      `Only the submitter (${r.submitted_by}) or an admin may cancel task ${r.task_id}.`,
      { task_id: r.task_id },
    ),
  quota_exceeded: (r) =>
    quotaError(
      "pending_tasks",
      `Over the task quota: ${r.held} tasks you submitted are still open and this adds ${r.requested}; at most ` +
        `${r.max} per agent. Wait for some to finish (or cancel_work), then retry.`,
      30,
      { max: r.max, held: r.held },
    ),
  invalid_cursor: () => invalidCursor(),
  invalid_input: submitRefusal(400),
  invalid_dependency: submitRefusal(400),
  dependency_cycle: submitRefusal(400),
  unknown_dependency: submitRefusal(404),
});

/** The queue's checks on caller input, for anything validation lets through (the 400 names the field). */
export const workConstraints = defineConstraints({
  "tasks.tasks_task_type_check": { field: "task_type", message: "1–64 of letters, digits and . _ : / -" },
  "tasks.tasks_task_description_check": { field: "task_description", message: "at most 10000 characters" },
  "tasks.tasks_priority_check": { field: "priority", message: "1 to 10" },
  "tasks.tasks_idempotency_key_check": { field: "idempotency_key", message: "1 to 200 characters" },
  "tasks.tasks_max_attempts_check": { field: "max_attempts", message: "1 to 20" },
  "tasks.tasks_retry_backoff_seconds_check": { field: "retry_backoff_seconds", message: "0 to 3600" },
});
