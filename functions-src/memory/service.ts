/**
 * The memory capability's calls into SQL: one function call per operation, refusals turned into ApiErrors.
 */
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../ops/paging.ts";
import { callJson } from "../db/port.ts";
import { callOp } from "../ops/call.ts";
import type { OpContext } from "../types.ts";
import { memoryRefusals } from "./refusals.ts";
import type { MemoryWorker } from "./worker.ts";
import type {
  ContextOut,
  DetailsOut,
  ListMemoriesIn,
  ListMemoriesOut,
  RecallIn,
  RecallOut,
  RememberIn,
  RememberOut,
  RetentionOut,
  SkillOutcomeIn,
  SkillOutcomeOut,
} from "./schemas.ts";

/** Drops undefined and null fields so SQL sees only what the caller sent. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

/**
 * Stores an episodic memory or a skill, or adds to the session's working memory. New text is embedded after the
 * answer (the worker's background work), where a provider and pgvector exist.
 */
export async function remember(
  ctx: OpContext,
  input: z.output<typeof RememberIn>,
  worker: MemoryWorker,
): Promise<z.output<typeof RememberOut>> {
  const { agentId, sessionId } = ctx.identity;
  if (input.layer !== "working") {
    const { kind: _k, priority: _p, pinned: _pin, budget_tokens: _b, ...memory } = input;
    const r = await callOp<z.output<typeof RememberOut>>(
      ctx.db,
      "coord.remember",
      [agentId, sessionId, compact(memory)],
      memoryRefusals,
    );
    // A caller-supplied vector is kept; a deduplicated repeat changes no text worth a new vector.
    if (!input.embedding && (r.status === "stored" || r.status === "updated")) worker.enqueue(r.id);
    return r;
  }
  const session = ctx.identity.sessionId!;
  const content = input.details ? `${input.summary}\n${input.details}` : input.summary;
  const item = compact({
    content,
    kind: input.kind,
    priority: input.priority,
    pinned: input.pinned,
    budget_tokens: input.budget_tokens,
    repo: input.repo,
    task_id: input.task_id,
  });
  const r = await callOp<z.output<typeof RememberOut>>(
    ctx.db,
    "coord.add_working_item",
    [agentId, session, item],
    memoryRefusals,
  );
  // Cut and evicted items became episodic memories: recall should find them by meaning too.
  for (const m of [...(r.evicted ?? []), ...(r.cut ?? [])]) worker.enqueue(m.memory_id);
  return r;
}

/**
 * Ranks memories for a task; empty with a message when nothing clears the relevance floor. With a provider and
 * pgvector, the query is embedded here and recall fuses vector and lexical ranks; a caller-supplied vector wins.
 */
export async function recall(
  ctx: OpContext,
  input: z.output<typeof RecallIn>,
  worker: MemoryWorker,
): Promise<z.output<typeof RecallOut>> {
  // Paraphrases: the query's words with coding abbreviations and WordNet synonyms, weighted below the words themselves.
  // The thesaurus (about 200 KB of source) is imported by the first recall, not at start: most edge starts never recall.
  const { expandQuery } = await import("./expansion.ts");
  const query: Record<string, unknown> = { ...compact(input), expansions: expandQuery(input.task_description) };
  if (!input.embedding && worker.embedder) {
    const vector = await worker.queryEmbedding(input.task_description);
    if (vector) {
      query.embedding = vector;
      query.embedding_model = worker.embedder.model;
      if (worker.config.minSimilarity !== null) query.vector_floor = worker.config.minSimilarity;
    }
  }
  const r = await callJson<z.output<typeof RecallOut> & { message: string | null }>(ctx.db, "coord.recall", [
    ctx.identity.agentId,
    ctx.identity.sessionId,
    query,
  ]);
  // A provider without a store for vectors (Postgres without pgvector) is a fallback worth saying.
  const vector = r.vector === "off" && worker.embedder && !(await worker.vectorStore()) ? "unavailable" : r.vector;
  return r.message ? { ...r, vector } : { results: r.results, vector };
}

/** Expands memories by id (and with `confirm`, clears their stale marks); 404 when none exists for this caller. */
export function details(ctx: OpContext, ids: number[], confirm: boolean): Promise<z.output<typeof DetailsOut>> {
  return callOp(
    ctx.db,
    "coord.expand_memories",
    [ctx.identity.agentId, ctx.identity.sessionId, ids, confirm],
    memoryRefusals,
  );
}

/** The caller's session working memory. */
export function context(ctx: OpContext): Promise<z.output<typeof ContextOut>> {
  return callJson(ctx.db, "coord.get_working_context", [ctx.identity.agentId, ctx.identity.sessionId!]);
}

/** Records an outcome of using a skill. */
export function skillOutcome(
  ctx: OpContext,
  input: z.output<typeof SkillOutcomeIn>,
): Promise<z.output<typeof SkillOutcomeOut>> {
  return callOp(
    ctx.db,
    "coord.record_skill_outcome",
    [
      ctx.identity.agentId,
      ctx.identity.sessionId,
      input.repo ?? "",
      input.name,
      input.outcome,
      input.idempotency_key ?? null,
    ],
    memoryRefusals,
  );
}

/**
 * The memory upkeep: archives old unused episodic memories (and refreshes recall's statistics), then backfills
 * embeddings the provider has not computed yet.
 */
export async function retention(
  ctx: Pick<OpContext, "db">,
  ageDays: number | undefined,
  worker: MemoryWorker,
): Promise<z.output<typeof RetentionOut>> {
  const archived = await callJson<z.output<typeof RetentionOut>>(ctx.db, "coord.archive_memories", [ageDays ?? null]);
  const backfill = await worker.backfill();
  return backfill ? { ...archived, embedded: backfill.embedded } : archived;
}

/** What a list_memories cursor holds: the last id of the page. */
const MemoryCursor = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** The memories the caller may see, newest first, a page at a time. */
export async function list(
  ctx: OpContext,
  input: z.output<typeof ListMemoriesIn>,
): Promise<z.output<typeof ListMemoriesOut>> {
  const after = decodeCursor(input.cursor, MemoryCursor);
  const r = await callJson<{ memories: z.output<typeof ListMemoriesOut>["memories"]; next_cursor: number | null }>(
    ctx.db,
    "coord.list_memories",
    [ctx.identity.agentId, input.layer ?? null, input.repo ?? null, input.limit, after],
  );
  return { memories: r.memories, next_cursor: encodeCursor(r.next_cursor) };
}
