import { z } from "zod";
import { AgentType } from "../identity/agent-id.ts";

/** Caps on every field: the queue is shared, one agent must not be able to bloat it. */
export const LIMITS = {
  inputBytes: 64 * 1024,
  resultBytes: 64 * 1024,
  description: 10_000,
  batch: 200,
  dependsOn: 100,
  claimBatch: 100,
  waitSeconds: 20,
  listMax: 200,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const TaskId = z.string().regex(UUID, "must be a task id (uuid)");
export const TaskType = z.string().regex(/^[A-Za-z0-9._:/-]{1,64}$/, "1–64 of letters, digits and . _ : / -");
const Capability = z.string().min(1).max(64);

/**
 * A JSON object whose serialized form stays under `bytes`. An object, not any JSON value: a client that sends the
 * JSON as a string (`"{\"pr\":1}"`) is refused instead of having the string stored.
 */
function cappedJson(bytes: number, what: string) {
  return z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= bytes, {
    message: `${what} is over ${bytes / 1024} KiB of JSON; store large artifacts elsewhere and pass a reference`,
  });
}

/** One task to submit (also one element of a batch). */
export const TaskSpec = z.object({
  task_type: TaskType,
  task_description: z.string().max(LIMITS.description).default(""),
  input_data: cappedJson(LIMITS.inputBytes, "input_data").optional().describe("JSON object for the claimant"),
  priority: z.number().int().min(1).max(10).default(5).describe("1 most urgent … 10 least"),
  depends_on: z
    .array(
      z.union([
        TaskId,
        z
          .number()
          .int()
          .min(0)
          .max(LIMITS.batch - 1),
      ]),
    )
    .max(LIMITS.dependsOn)
    .default([])
    .describe("Task ids to complete first (in a batch: an index in it)"),
  deadline: z.iso.datetime({ offset: true }).optional().describe("Not claimable after this; fails if still pending"),
  max_attempts: z.number().int().min(1).max(20).default(3),
  retry_backoff_seconds: z.number().int().min(0).max(3600).default(5).describe("Retry delay base, doubled per attempt"),
  idempotency_key: z.string().min(1).max(200).optional().describe("Same key, same submitter → same task"),
  required_agent_type: AgentType.optional(),
  required_capabilities: z.array(Capability).max(20).optional(),
  exclude_submitter: z.boolean().default(false).describe("The submitter may not claim it (reviews)"),
});

export const SubmittedTask = z.object({
  id: z.string(),
  status: z.string(),
  deduplicated: z.boolean(),
  pending_deps: z.number().int(),
});

/** A progress note a claimant left on a task (renew_work's note). */
export interface TaskNote {
  at: string;
  agent_id: string;
  note: string;
}

/**
 * The claim before this one, when it ended without completing (holder died, gave up, lost the lease): what the next
 * claimant is told. get_work adds how long it was held, the last notes and the previous session's working memory
 * about the task. A plain type, not a schema: tools/list carries every output schema, and agents pay for each word.
 */
export interface Handoff {
  agent_id: string | null;
  session_id?: string | null;
  claim_token?: number | null;
  attempt?: number;
  claimed_at?: string | null;
  released_at: string;
  /** session expired | lease expired | session ended | failed: <error> */
  why: string;
  held_seconds?: number;
  notes?: TaskNote[];
  working_memory?: Array<{ kind: string; content: string; priority: number; at: string }>;
}

/** A task as claimed or inspected. Loose: new columns may appear without breaking clients. */
export const Task = z.looseObject({
  id: z.string(),
  task_type: z.string(),
  task_description: z.string(),
  input_data: z.unknown(),
  priority: z.number().int(),
  status: z.string(),
  submitted_by: z.string(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  claimed_by: z.string().nullable(),
  claim_token: z.number().int().nullable(),
  lease_expires_at: z.string().nullable(),
  result: z.unknown(),
  error_message: z.string().nullable(),
  handoff: z
    .looseObject({})
    .nullable()
    .optional()
    .describe("Set when it came back: who held it, why, their notes and working memory"),
});

export const TaskSummary = z.looseObject({
  id: z.string(),
  task_type: z.string(),
  status: z.string(),
  priority: z.number().int(),
  task_description: z.string(),
});

export const ClaimInput = z.object({
  task_types: z.array(TaskType).max(20).optional(),
  capabilities: z
    .array(Capability)
    .max(20)
    .optional()
    .describe("What this agent can do (matches required_capabilities)"),
  limit: z.number().int().min(1).max(LIMITS.claimBatch).default(1),
  wait_seconds: z.number().int().min(0).max(LIMITS.waitSeconds).default(0),
  lease_seconds: z.number().int().min(10).max(3600).default(600),
  idempotency_key: z.string().min(1).max(200).optional().describe("Same key again → that claim's tasks (safe retry)"),
});

export const Completion = z.object({
  task_id: TaskId,
  claim_token: z.number().int().positive().optional().describe("The token get_work returned; a repeat with it replays"),
  success: z.boolean(),
  result: cappedJson(LIMITS.resultBytes, "result").optional().describe("JSON object for the submitter"),
  error_message: z.string().max(10_000).optional(),
});

export const CompletionResult = z.looseObject({
  task_id: z.string(),
  ok: z.boolean(),
  status: z.string().nullable(),
  code: z.string().optional().describe("Refused: the code complete_work would answer"),
  message: z.string().optional().describe("Refused: what to do"),
});
