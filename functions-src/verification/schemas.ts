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

/** One finding of fencing: which commit, file and token, and why the token did not vouch for it. */
export const FencingProblem = z.object({
  sha: z.string(),
  status: z.enum([
    "lock_lost",
    "not_yet_held",
    "future",
    "unknown_token",
    "other_repo",
    "other_path",
    "other_agent",
    "malformed",
    "unchecked",
  ]),
  committed_at: z.string().optional(),
  path: z.string().optional(),
  token: z.number().optional(),
  message: z.string().optional(),
  lock_key: z.string().optional(),
  holder: z.string().optional(),
  acquired_at: z.string().optional(),
  ended: z.string().optional(),
  ended_at: z.string().optional(),
  next_holder: z.string().optional(),
  next_token: z.number().optional(),
  next_at: z.string().optional(),
});
export type FencingProblemView = z.output<typeof FencingProblem>;

/**
 * The fencing evidence of a changeset: what the lock-token trailers of its commits showed. `status`: `none` (no
 * commit carried tokens), `held` (every token was live when its commit was made), `lock_lost` (a commit was made
 * without its lock), `invalid` (a forged or unreadable trailer). Counts are of commits and tokens judged.
 */
export const FencingOut = z.object({
  status: z.enum(["none", "held", "lock_lost", "invalid"]),
  skew_seconds: z.number().int(),
  commits: z.number().int(),
  fenced: z.number().int(),
  tokens: z.number().int(),
  held: z.number().int(),
  problems: z.array(FencingProblem),
  problems_total: z.number().int(),
});
export type FencingView = z.output<typeof FencingOut>;

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
  fencing: FencingOut.nullable(),
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
