import { z } from "zod";
import { defineCapability } from "../ops/capability.ts";
import { callJson } from "../db/port.ts";
import { callOp } from "../ops/call.ts";
import { defineOperation } from "../ops/operation.ts";
import { Cursor, decodeCursor, encodeCursor, NextCursor } from "../ops/paging.ts";
import {
  ClaimInput,
  Completion,
  CompletionResult,
  type Handoff,
  LIMITS,
  SubmittedTask,
  Task,
  TaskId,
  TaskSpec,
  TaskSummary,
  TaskType,
} from "./schemas.ts";
import { workConstraints, workRefusals } from "./refusals.ts";
import { claimWork, completeTask, completeTasks, submitTasks } from "./service.ts";

function submittedLine(t: z.output<typeof SubmittedTask>): string {
  const waiting = t.pending_deps > 0 ? `, waiting on ${t.pending_deps} dependencies` : "";
  return `task ${t.id} ${t.status}${t.deduplicated ? " (existing task for this idempotency key)" : ""}${waiting}`;
}

/** What the next claimant reads of a task that came back: who had it, how long, why, their notes and memory. */
export function handoffLines(h: Handoff): string {
  const held = h.held_seconds === undefined ? "" : ` for ${h.held_seconds} s`;
  const lines = [
    `  handoff: ${h.agent_id ?? "?"} held it${held} (attempt ${h.attempt ?? "?"}); it came back: ${h.why}`,
  ];
  for (const n of h.notes ?? []) lines.push(`  note from ${n.agent_id} at ${n.at}: ${n.note.slice(0, 300)}`);
  for (const w of h.working_memory ?? []) lines.push(`  their ${w.kind}: ${w.content.slice(0, 300)}`);
  return lines.join("\n");
}

/** Submit one task. */
export const submitWork = defineOperation({
  name: "submit_work",
  title: "Submit work",
  description: "Queue a task for another agent; depends_on holds it until those tasks complete. Answers the task id.",
  input: TaskSpec,
  output: SubmittedTask,
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/work/tasks", status: 201 },
  run: async (ctx, input) => (await submitTasks(ctx, [input]))[0]!,
  summarize: submittedLine,
});

/** Submit many tasks atomically; depends_on may name other tasks of the batch by index. */
export const submitWorkBatch = defineOperation({
  name: "submit_work_batch",
  title: "Submit work (batch)",
  description:
    "Queue up to 200 tasks at once, all or none. In depends_on an integer is the index of another task in this batch.",
  input: z.object({ tasks: z.array(TaskSpec).min(1).max(LIMITS.batch) }),
  output: z.object({ tasks: z.array(SubmittedTask) }),
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/work/tasks/batch", status: 201 },
  // REST only: its input repeats submit_work's whole task schema, which would double that part of the tool list
  // agents read on every turn; an MCP agent submits tasks one by one (depends_on takes the ids earlier calls answered).
  tool: false,
  run: async (ctx, input) => ({ tasks: await submitTasks(ctx, input.tasks) }),
  summarize: (o) =>
    `${o.tasks.length} tasks: ${o.tasks
      .map((t) => `${t.id} ${t.status}`)
      .slice(0, 10)
      .join(", ")}${o.tasks.length > 10 ? ", …" : ""}`,
});

/** Claim the most urgent ready work. */
export const getWork = defineOperation({
  name: "get_work",
  title: "Get work",
  description:
    "Claim the most urgent ready task (or up to limit). Keep the claim_token for complete_work; the lease renews with your session heartbeat.",
  input: ClaimInput,
  output: z.object({ tasks: z.array(Task), waited_ms: z.number().int() }),
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/work/claim" },
  run: (ctx, input) => claimWork(ctx, input),
  summarize: (o) =>
    o.tasks.length === 0
      ? "no ready work; try again later or pass wait_seconds (up to 20)"
      : o.tasks
          .map(
            (t) =>
              `claimed ${t.task_type} task ${t.id} (priority ${t.priority}, attempt ${t.attempts}/${t.max_attempts}) claim_token ${t.claim_token}, lease until ${t.lease_expires_at}: ${t.task_description.slice(0, 200)}` +
              (t.handoff ? `\n${handoffLines(t.handoff as unknown as Handoff)}` : ""),
          )
          .join("\n"),
});

/** Complete (or fail) a claimed task. */
export const completeWork = defineOperation({
  name: "complete_work",
  title: "Complete work",
  description:
    "Report a claimed task done (success true, result) or failed (success false, error_message; retried with backoff until max_attempts).",
  input: Completion,
  output: CompletionResult,
  hints: { destructiveHint: false },
  // The same report with the claim's token answers the state it left (replayed); without it a repeat could complete
  // the agent's next claim of the same task.
  replayKey: "claim_token",
  http: { method: "POST", path: "/work/tasks/:task_id/complete" },
  run: (ctx, input) => completeTask(ctx, input),
  summarize: (r) =>
    r.status === "pending"
      ? `task ${r.task_id} failed this attempt; it will be retried after ${String(r.not_before)}`
      : `task ${r.task_id} ${r.status}`,
});

/** Complete many claimed tasks in one round trip. */
export const completeWorkBatch = defineOperation({
  name: "complete_work_batch",
  title: "Complete work (batch)",
  description: "Report up to 100 claimed tasks at once; each answers ok, or its refusal code and message.",
  input: z.object({ completions: z.array(Completion).min(1).max(LIMITS.claimBatch) }),
  output: z.object({ results: z.array(CompletionResult) }),
  hints: { destructiveHint: false },
  replayKey: "claim_token",
  http: { method: "POST", path: "/work/complete" },
  tool: false,
  run: async (ctx, input) => ({ results: await completeTasks(ctx, input.completions) }),
  summarize: (o) => `${o.results.filter((r) => r.ok).length}/${o.results.length} accepted`,
});

/** Extend a claim's lease explicitly (the session heartbeat also does). */
export const renewWork = defineOperation({
  name: "renew_work",
  title: "Renew work lease",
  description:
    "Extend the lease on a task you claimed (your session heartbeat also renews it); note records your progress.",
  // REST only: agents on the bridge are renewed by its heartbeat; cloud agents call the route.
  tool: false,
  input: z.object({
    task_id: TaskId,
    claim_token: z.number().int().positive().optional(),
    lease_seconds: z.number().int().min(10).max(3600).optional(),
    note: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .describe("Progress so far: kept on the task (last 10) and shown to the next claimant if it comes back"),
  }),
  output: z.object({ task_id: z.string(), claim_token: z.number().int(), lease_expires_at: z.string() }),
  hints: { idempotentHint: true },
  http: { method: "POST", path: "/work/tasks/:task_id/renew" },
  run: (ctx, input) =>
    callOp(
      ctx.db,
      "coord.renew_claims",
      [ctx.identity.agentId, input.task_id, input.claim_token ?? null, input.lease_seconds ?? null, input.note ?? null],
      workRefusals,
    ),
  summarize: (o) => `lease on task ${o.task_id} until ${o.lease_expires_at}`,
});

/** Cancel a task (its submitter or an admin). */
export const cancelWork = defineOperation({
  name: "cancel_work",
  title: "Cancel work",
  description: "Cancel a pending or claimed task you submitted; tasks depending on it fail. Safe to repeat.",
  input: z.object({ task_id: TaskId, reason: z.string().max(500).optional() }),
  output: z.object({
    task_id: z.string(),
    status: z.string(),
    dependents_failed: z.number().int(),
    replayed: z.boolean().optional().describe("It was cancelled already: nothing changed"),
  }),
  // Cancelling a cancelled task answers it (replayed) and changes nothing.
  hints: { destructiveHint: true, idempotentHint: true },
  http: { method: "POST", path: "/work/tasks/:task_id/cancel" },
  run: (ctx, input) =>
    callOp(
      ctx.db,
      "coord.cancel_task",
      [ctx.identity.agentId, ctx.identity.scope === "admin", input.task_id, input.reason ?? null],
      workRefusals,
    ),
  summarize: (o) =>
    `task ${o.task_id} cancelled${o.dependents_failed ? `; ${o.dependents_failed} dependent tasks failed` : ""}`,
});

/** One task in full. */
export const inspectWork = defineOperation({
  name: "inspect_work",
  title: "Inspect work",
  description: "One task in full: status, attempts, claimant, result or error.",
  // REST only, like the list and depth routes: monitoring, not something an agent needs mid-task.
  tool: false,
  input: z.object({ task_id: TaskId }),
  output: Task,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/work/tasks/:task_id" },
  run: (ctx, input) => callOp(ctx.db, "coord.get_task", [input.task_id], workRefusals),
  summarize: (t) =>
    `${t.task_type} task ${t.id}: ${t.status}, attempt ${t.attempts}/${t.max_attempts}` +
    (t.claimed_by ? `, claimed by ${t.claimed_by} until ${t.lease_expires_at}` : "") +
    (t.error_message ? `; error: ${t.error_message.slice(0, 200)}` : ""),
});

const Status = z.enum(["pending", "claimed", "completed", "failed", "cancelled"]);

/** What a list_work cursor holds: the last row's sort key [rank, created_at, id] (SQL checks the values). */
const TaskCursor = z.tuple([z.number().int(), z.string().max(64), z.string().max(64)]);

/** Bounded listing by status, type and submitter. */
export const listWork = defineOperation({
  name: "list_work",
  title: "List work",
  description: "Task summaries by status, type or submitter, a page at a time (at most 200).",
  input: z.object({
    status: Status.optional(),
    task_type: TaskType.optional(),
    submitted_by: z.string().min(1).max(128).optional(),
    limit: z.number().int().min(1).max(LIMITS.listMax).default(50),
    cursor: Cursor.optional(),
  }),
  output: z.object({ tasks: z.array(TaskSummary), next_cursor: NextCursor }),
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/work/tasks" },
  tool: false,
  run: async (ctx, i) => {
    const after = decodeCursor(i.cursor, TaskCursor);
    const r = await callOp<{ tasks: Array<z.output<typeof TaskSummary>>; next_cursor: unknown }>(
      ctx.db,
      "coord.list_tasks",
      [i.status ?? null, i.task_type ?? null, i.submitted_by ?? null, i.limit, after],
      workRefusals,
    );
    return { tasks: r.tasks, next_cursor: encodeCursor(r.next_cursor) };
  },
  summarize: (o) => `${o.tasks.length} tasks${o.next_cursor ? " (more: pass next_cursor)" : ""}`,
});

/** Queue depth for monitoring. */
export const workDepth = defineOperation({
  name: "work_queue_depth",
  title: "Work queue depth",
  description: "Task counts per status and type, ready now, and expired leases not yet reaped.",
  input: z.object({}),
  output: z.object({
    by_status_type: z.array(z.object({ status: z.string(), task_type: z.string(), count: z.number().int() })),
    ready: z.number().int(),
    expired_leases: z.number().int(),
    now: z.string(),
  }),
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/work/depth" },
  tool: false,
  run: (ctx) => callJson(ctx.db, "coord.queue_depth"),
  summarize: (o) =>
    `${o.ready} ready; ${o.by_status_type.map((r) => `${r.status}/${r.task_type}: ${r.count}`).join(", ")}`,
});

export const workCapability = defineCapability({
  name: "work",
  constraints: workConstraints,
  // Claims and heartbeats reap too; this covers a queue nobody is touching.
  maintenance: (deps) => callJson(deps.db, "coord.reap_tasks"),
  operations: [
    submitWork,
    submitWorkBatch,
    getWork,
    completeWork,
    completeWorkBatch,
    renewWork,
    cancelWork,
    inspectWork,
    listWork,
    workDepth,
  ],
  resources: [
    {
      name: "work-pending",
      uri: "work://pending",
      title: "Pending work",
      description: "The most urgent ready tasks (compact): id, type, priority, description.",
      read: (ctx) => callJson(ctx.db, "coord.pending_summary", [20]),
    },
  ],
});
