/** The gateway's answers, declared once: operations, the service and the typed client all use these. */
import { z } from "zod";

/** A routing policy as listed to agents. */
export const Policy = z.object({
  id: z.string(),
  description: z.string(),
  patterns: z.array(z.string()),
  min_tier: z.number().int(),
  is_floor: z.boolean(),
});

/** One tier's result: who ran it, on which commit, with what outcome. */
export const ResultOut = z.object({
  id: z.string(),
  tier: z.number().int(),
  executor: z.string(),
  status: z.string(),
  commit_sha: z.string().nullable(),
  external_id: z.string().nullable(),
  summary: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  reported_by: z.string().nullable(),
  updated_at: z.string(),
});

/** A changeset as every answer shows it: routing decision, required tiers and their results. */
export const ChangesetOut = z.object({
  id: z.string(),
  source: z.enum(["agent", "github"]),
  repo: z.string(),
  branch: z.string().nullable(),
  commit_sha: z.string(),
  agent_id: z.string(),
  task_id: z.string().nullable(),
  state: z.enum(["pending", "verified", "failed", "rejected"]),
  tier: z.number().int(),
  base_tier: z.number().int(),
  floor_tier: z.number().int(),
  required_tiers: z.array(z.number().int()),
  file_count: z.number().int(),
  decision: z.record(z.string(), z.unknown()),
  check_run_id: z.number().nullable(),
  pr_number: z.number().nullable(),
  installation_id: z.number().nullable(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  results: z.array(ResultOut),
  existing: z.boolean().optional(),
});
export type ChangesetView = z.output<typeof ChangesetOut>;
