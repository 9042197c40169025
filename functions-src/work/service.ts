/** The work queue's calls into SQL: one function call per operation, refusals turned into actionable errors. */
import type { z } from "zod";
import { callOp, refusalError, refusalOf } from "../ops/call.ts";
import { quotaCap } from "../ops/quotas.ts";
import type { OpContext } from "../types.ts";
import { workRefusals } from "./refusals.ts";
import type { ClaimInput, Completion, CompletionResult, SubmittedTask, Task, TaskSpec } from "./schemas.ts";
import { armWait } from "../events/wait.ts";

// A long-poll re-checks at least this often even without a notification: a retry's backoff ending and a lease
// expiring announce nothing.
const RECHECK_MS = 2_000;

/** Submits tasks in one call; the whole batch is refused (nothing stored) on a bad dependency or a cycle. */
export async function submitTasks(
  ctx: OpContext,
  specs: Array<z.output<typeof TaskSpec>>,
): Promise<Array<z.output<typeof SubmittedTask>>> {
  // jsonb parameters go as objects: both drivers serialize them (a pre-serialized string would be double-encoded).
  const r = await callOp<{ tasks: Array<z.output<typeof SubmittedTask>> }>(
    ctx.db,
    "coord.submit_tasks",
    [ctx.identity.agentId, ctx.identity.sessionId, specs, quotaCap(ctx, ctx.config.quotas.pendingTasks)],
    workRefusals,
  );
  return r.tasks;
}

async function claimOnce(ctx: OpContext, input: z.output<typeof ClaimInput>) {
  const r = await callOp<{ tasks: Array<z.output<typeof Task>> }>(
    ctx.db,
    "coord.claim_tasks",
    [
      ctx.identity.agentId,
      ctx.identity.sessionId,
      ctx.identity.agentType,
      input.task_types ?? null,
      input.capabilities ?? null,
      input.limit,
      input.lease_seconds,
      ctx.identity.bound,
      input.idempotency_key ?? null,
    ],
    workRefusals,
  );
  return r.tasks;
}

/** Event kinds after which a waiting worker may find ready work. Claims and renewals wake nobody. */
const WAKING_KINDS = new Set(["task.submitted", "task.completed", "task.released", "task.retry_scheduled"]);

/**
 * Claims up to `limit` ready tasks. With `wait_seconds`, an empty answer waits for a task event on the event feed
 * (work submitted, completed, released) and tries again until the time is up.
 */
export async function claimWork(ctx: OpContext, input: z.output<typeof ClaimInput>) {
  const started = Date.now();
  const until = started + input.wait_seconds * 1000;
  for (;;) {
    const remaining = until - Date.now();
    // Armed before the claim, so work announced between the claim and the wait still wakes us.
    const wakeup = remaining > 0 ? await armWait(ctx.feed) : null;
    try {
      const tasks = await claimOnce(ctx, input);
      if (tasks.length > 0 || !wakeup) return { tasks, waited_ms: Date.now() - started };
      await wakeup.wait((n) => WAKING_KINDS.has(n.kind), Date.now() + Math.min(remaining, RECHECK_MS));
    } finally {
      wakeup?.dispose();
    }
  }
}

type CompletionItem = { task_id: string; status?: string; [k: string]: unknown };

/** Completes claimed tasks in one SQL call; each item answers its new state or a refusal. */
async function complete(ctx: OpContext, items: Array<z.output<typeof Completion>>): Promise<CompletionItem[]> {
  const r = await callOp<{ results: CompletionItem[] }>(
    ctx.db,
    "coord.complete_tasks",
    [ctx.identity.agentId, ctx.identity.sessionId, items],
    workRefusals,
  );
  return r.results;
}

/** Completes one claimed task, or refuses (lease_lost, not_claimant, …). */
export async function completeTask(
  ctx: OpContext,
  item: z.output<typeof Completion>,
): Promise<z.output<typeof CompletionResult>> {
  const [result] = await complete(ctx, [item]);
  const refusal = refusalOf(result);
  if (refusal) throw refusalError(workRefusals, refusal, "coord.complete_tasks");
  return { ...result!, ok: true, status: result!.status ?? null };
}

/**
 * Completes several claimed tasks in one round trip. Each item answers its new state or, refused, the same code and
 * message complete_work would give for it alone.
 */
export async function completeTasks(
  ctx: OpContext,
  items: Array<z.output<typeof Completion>>,
): Promise<Array<z.output<typeof CompletionResult>>> {
  return (await complete(ctx, items)).map((item) => {
    const refusal = refusalOf(item);
    if (!refusal) return { ...item, ok: true, status: item.status ?? null };
    const error = refusalError(workRefusals, refusal, "coord.complete_tasks");
    const status = (refusal.status as string | null | undefined) ?? null;
    return { task_id: item.task_id, ok: false, status, code: error.code, message: error.message };
  });
}
