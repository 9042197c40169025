import { z } from "zod";
import { REST_ONLY } from "../ops/json-schema.ts";
import { Cursor, NextCursor } from "../ops/paging.ts";

/** Embedding width the schema stores (pgvector column `vector(384)`, e.g. all-MiniLM-L6-v2). */
export const EMBEDDING_DIMENSIONS = 384;

const text = (max: number) => z.string().trim().min(1).max(max);
const tags = z.array(z.string().trim().toLowerCase().min(1).max(64)).max(20);
const embedding = z
  .array(z.number().finite())
  .length(EMBEDDING_DIMENSIONS)
  .describe("Used where the database has pgvector")
  // Agents do not type 384 numbers: REST clients with their own embedding model send it; the tool list leaves it out.
  .meta(REST_ONLY);
const repo = z.string().trim().max(200).describe("Repository the memory belongs to");
const eventType = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_.:-]{1,64}$/, "letters, digits and _.:- only, at most 64");

/** Input of `remember`: the seed's fields plus a layer and the layer-specific ones. */
export const RememberIn = z
  .object({
    layer: z.enum(["episodic", "working", "procedural"]).default("episodic"),
    event_type: eventType.optional().describe("e.g. test_failure, build_fix (episodic)"),
    summary: text(500).describe("One line: what happened or what to keep"),
    details: text(8000).optional(),
    outcome: z
      .enum(["success", "failure", "partial"])
      .optional()
      .describe("Episodic: how it went (for a skill, use report_skill_outcome)"),
    lessons: text(4000).optional(),
    tags: tags.optional(),
    repo: repo.optional(),
    visibility: z.enum(["shared", "private"]).default("shared"),
    file_paths: z.array(text(500)).max(50).optional(),
    commit_sha: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/, "7-40 lowercase hex digits")
      .optional(),
    task_id: text(128).optional().describe("Task it is about (working items go to its next claimant)"),
    name: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "lowercase letters, digits and ._- only, at most 100")
      .optional()
      .describe("Procedural: skill name, one per repo"),
    steps: z.array(text(500)).max(30).optional().describe("Procedural: the steps."),
    preconditions: text(2000).optional(),
    kind: z
      .enum(["goal", "decision", "constraint", "observation", "note"])
      .default("note")
      .describe("Working: item kind."),
    priority: z.number().int().min(1).max(5).default(3).describe("Working: 1 (low) to 5 (high)."),
    pinned: z.boolean().default(false).describe("Working: never evicted."),
    budget_tokens: z
      .number()
      .int()
      .min(100)
      .max(100_000)
      .optional()
      .describe("Working: session token budget (default 4000)"),
    embedding: embedding.optional(),
  })
  .refine((v) => v.layer !== "procedural" || v.name !== undefined, {
    message: "layer procedural needs a skill name",
    path: ["name"],
  })
  .refine((v) => v.layer !== "episodic" || v.name === undefined, {
    message: "only procedural memories carry a name; send layer: procedural, or leave name out",
    path: ["name"],
  })
  .refine((v) => v.layer !== "working" || v.summary.length + (v.details?.length ?? 0) < 8000, {
    message: "working items hold at most 8000 characters (summary + details)",
    path: ["details"],
  });

const Moved = z.object({ id: z.number().int(), memory_id: z.number().int() });

/** Output of `remember`, for every layer. */
export const RememberOut = z.object({
  id: z.number().int(),
  layer: z.enum(["episodic", "working", "procedural"]),
  status: z.enum(["stored", "deduplicated", "updated", "added", "merged"]),
  redacted: z.boolean(),
  occurrences: z.number().int().optional(),
  tokens_used: z.number().int().optional(),
  budget_tokens: z.number().int().optional(),
  evicted: z.array(Moved).optional().describe("Working items moved to episodic memory (still recallable)."),
  cut: z
    .array(Moved)
    .optional()
    .describe("Working items cut to their summary line (full text kept in episodic memory)."),
});

/** Input of `recall`. */
export const RecallIn = z.object({
  task_description: text(4000).describe("What you are about to do, in your own words."),
  tags: tags.optional(),
  tag_mode: z.enum(["boost", "filter"]).default("boost").describe("boost: tagged rank higher; filter: only tagged"),
  event_types: z.array(eventType).max(20).optional(),
  layers: z
    .array(z.enum(["episodic", "procedural"]))
    .min(1)
    .max(2)
    .optional(),
  limit: z.number().int().min(1).max(50).default(10),
  repo: repo.optional(),
  embedding: embedding.optional(),
});

/** One compact recall row. */
export const RecallHit = z.object({
  id: z.number().int(),
  layer: z.enum(["episodic", "procedural"]),
  summary: z.string(),
  score: z.number(),
  why: z.string(),
  event_type: z.string().optional(),
  name: z.string().optional(),
  outcome: z.string().optional(),
  occurrences: z.number().int().optional(),
  success_rate: z.number().optional(),
  stale: z.string().optional().describe("Files it names changed since: check it, then memory_details confirm=true."),
});

export const RecallOut = z.object({
  results: z.array(RecallHit),
  vector: z.enum(["off", "on", "unavailable"]).describe("Whether vector similarity joined the ranking."),
  message: z.string().optional(),
});

export const DetailsIn = z.object({
  ids: z.array(z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(20),
  confirm: z.boolean().default(false).describe("You checked they still hold: clears stale marks"),
});

export const DetailsOut = z.object({
  memories: z.array(z.looseObject({ id: z.number().int(), layer: z.string(), summary: z.string() })),
  missing: z.array(z.number().int()),
  confirmed: z.array(z.number().int()).describe("Ids whose stale marks confirm cleared."),
});

export const WorkingItem = z.object({
  id: z.number().int(),
  kind: z.string(),
  content: z.string(),
  priority: z.number().int(),
  pinned: z.boolean(),
  tokens: z.number().int(),
  cut: z.boolean(),
});

export const ContextOut = z.object({
  session_id: z.string(),
  budget_tokens: z.number().int(),
  tokens_used: z.number().int(),
  items: z.array(WorkingItem),
});

export const SkillOutcomeIn = z.object({
  name: z.string().trim().toLowerCase().min(1).max(100),
  outcome: z.enum(["success", "failure", "partial"]),
  repo: repo.optional(),
  idempotency_key: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Same key from the same agent → counted once (safe to retry)"),
});

export const SkillOutcomeOut = z.object({
  id: z.number().int(),
  name: z.string(),
  successes: z.number(),
  failures: z.number(),
  success_rate: z.number(),
  deduplicated: z.boolean().optional().describe("Already counted under this idempotency_key"),
});

export const RetentionIn = z.object({
  age_days: z
    .number()
    .int()
    .min(0)
    .max(3650)
    .optional()
    .describe("Archive episodic rows unseen and unused this long (default: setting retention_days, 90)."),
});

export const RetentionOut = z.object({
  archived: z.number().int(),
  age_days: z.number().int(),
  embedded: z.number().int().optional().describe("Memories the embedding backfill gave a vector."),
});

export const ListMemoriesIn = z.object({
  layer: z.enum(["episodic", "procedural"]).optional(),
  repo: repo.optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: Cursor.optional(),
});

export const ListMemoriesOut = z.object({
  memories: z.array(
    z.looseObject({ id: z.number().int(), layer: z.string(), summary: z.string(), agent_id: z.string() }),
  ),
  next_cursor: NextCursor,
});
