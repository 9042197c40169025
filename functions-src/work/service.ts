/** The work queue's calls into SQL: one function call per operation, refusals turned into actionable errors. */
import type { z } from "zod";
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import type { OpContext } from "../types.ts";
import type { ClaimInput, Completion, SubmittedTask, Task, TaskSpec } from "./schemas.ts";
import { armWait } from "../db/wakeup.ts";

// A long-poll re-checks at least this often even without a notification: a retry's backoff ending and a lease
// expiring announce nothing.
const RECHECK_MS = 2_000;

type Refusal = { code: string; message?: string; [k: string]: unknown };

/** Submits tasks in one call; the whole batch is refused (nothing stored) on a bad dependency or a cycle. */
export async function submitTasks(
  ctx: OpContext,
  specs: Array<z.output<typeof TaskSpec>>,
): Promise<Array<z.output<typeof SubmittedTask>>> {
  // jsonb parameters go as objects: both drivers serialize them (a pre-serialized string would be double-encoded).
  const r = await callJson<{ tasks?: Array<z.output<typeof SubmittedTask>>; error?: Refusal }>(
    ctx.db,
    "coord.submit_tasks",
    [ctx.identity.agentId, ctx.identity.sessionId, specs],
  );
  if (r.error) {
    const { code, message, ...details } = r.error;
    throw new ApiError(code === "unknown_dependency" ? 404 : 400, code, message ?? code, details);
  }
  return r.tasks!;
}

async function claimOnce(ctx: OpContext, input: z.output<typeof ClaimInput>) {
  const r = await callJson<{ tasks: Array<z.output<typeof Task>> }>(ctx.db, "coord.claim_tasks", [
    ctx.identity.agentId,
    ctx.identity.sessionId,
    ctx.identity.agentType,
    input.task_types ?? null,
    input.capabilities ?? null,
    input.limit,
    input.lease_seconds,
  ]);
  return r.tasks;
}

/** Event kinds after which a waiting worker may find ready work. Claims and renewals wake nobody. */
const WAKING_KINDS = new Set(["task.submitted", "task.completed", "task.released", "task.retry_scheduled"]);

/**
 * Claims up to `limit` ready tasks. With `wait_seconds`, an empty answer waits for a `coord_task` notification
 * (work submitted, completed, released) and tries again until the time is up.
 */
export async function claimWork(ctx: OpContext, input: z.output<typeof ClaimInput>) {
  const started = Date.now();
  const until = started + input.wait_seconds * 1000;
  for (;;) {
    const remaining = until - Date.now();
    // Armed before the claim, so work announced between the claim and the wait still wakes us.
    const wakeup = remaining > 0 ? await armWait(ctx.db, "coord_task") : null;
    try {
      const tasks = await claimOnce(ctx, input);
      if (tasks.length > 0 || !wakeup) return { tasks, waited_ms: Date.now() - started };
      await wakeup.wait((n) => WAKING_KINDS.has(n.kind), Date.now() + Math.min(remaining, RECHECK_MS));
    } finally {
      wakeup?.dispose();
    }
  }
}

/** Turns a refusal code from SQL into the error a caller can act on. */
export function refusal(taskId: string, r: Record<string, unknown>): ApiError {
  const holder = r.claimed_by ? ` (now claimed by ${r.claimed_by})` : "";
  switch (r.code) {
    case "not_found":
      return new ApiError(404, "not_found", `No task ${taskId}; check the id (GET /work/tasks lists tasks).`, {
        task_id: taskId,
      });
    case "lease_lost":
      return new ApiError(
        409,
        "lease_lost",
        `Your claim on task ${taskId} was lost (lease expired or session ended); it is ${r.status}${holder}. Discard this result and call get_work for new work.`,
        { task_id: taskId, status: r.status, claimed_by: r.claimed_by ?? null },
      );
    case "not_claimant":
      return new ApiError(
        403,
        "not_claimant",
        `Task ${taskId} is ${r.status}${holder}, not claimed by you; only the current claimant with its claim token can do this.`,
        { task_id: taskId, status: r.status, claimed_by: r.claimed_by ?? null },
      );
    case "already_completed":
      return new ApiError(409, "already_completed", `Task ${taskId} is already ${r.status}; nothing changed.`, {
        task_id: taskId,
        status: r.status,
      });
    case "cancelled":
      return new ApiError(409, "cancelled", `Task ${taskId} was cancelled; discard the work.`, {
        task_id: taskId,
        status: "cancelled",
      });
    case "not_submitter":
      return new ApiError(
        403,
        "not_submitter",
        `Only the submitter (${r.submitted_by}) or an admin may cancel task ${taskId}.`,
        { task_id: taskId },
      );
    default:
      return new ApiError(409, String(r.code), `Task ${taskId}: ${String(r.code)}.`, { task_id: taskId });
  }
}

/** Completes several claimed tasks in one call; each item answers ok or its refusal code. */
export async function completeTasks(ctx: OpContext, items: Array<z.output<typeof Completion>>) {
  const r = await callJson<{
    results: Array<Record<string, unknown> & { task_id: string; ok: boolean; status: string | null }>;
  }>(ctx.db, "coord.complete_tasks", [ctx.identity.agentId, ctx.identity.sessionId, items]);
  return r.results;
}
