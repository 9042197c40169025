/**
 * The memory capability's calls into SQL: one function call per operation, refusals turned into ApiErrors.
 */
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../ops/paging.ts";
import { callJson } from "../db/port.ts";
import { callOp } from "../ops/call.ts";
import type { OpContext } from "../types.ts";
import { memoryRefusals } from "./refusals.ts";
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

/** Stores an episodic memory or a skill, or adds to the session's working memory. */
export async function remember(
  ctx: OpContext,
  input: z.output<typeof RememberIn>,
): Promise<z.output<typeof RememberOut>> {
  const { agentId, sessionId } = ctx.identity;
  if (input.layer !== "working") {
    const { kind: _k, priority: _p, pinned: _pin, budget_tokens: _b, ...memory } = input;
    return callOp(ctx.db, "coord.remember", [agentId, sessionId, compact(memory)], memoryRefusals);
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
  return callOp(ctx.db, "coord.add_working_item", [agentId, session, item], memoryRefusals);
}

/** Ranks memories for a task; empty with a message when nothing clears the relevance floor. */
export async function recall(ctx: OpContext, input: z.output<typeof RecallIn>): Promise<z.output<typeof RecallOut>> {
  const r = await callJson<z.output<typeof RecallOut> & { message: string | null }>(ctx.db, "coord.recall", [
    ctx.identity.agentId,
    ctx.identity.sessionId,
    compact(input),
  ]);
  return r.message ? r : { results: r.results, vector: r.vector };
}

/** Expands memories by id; 404 when none of them exists for this caller. */
export function details(ctx: OpContext, ids: number[]): Promise<z.output<typeof DetailsOut>> {
  return callOp(ctx.db, "coord.expand_memories", [ctx.identity.agentId, ctx.identity.sessionId, ids], memoryRefusals);
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

/** Archives old unused episodic memories. */
export function retention(
  ctx: Pick<OpContext, "db">,
  ageDays: number | undefined,
): Promise<z.output<typeof RetentionOut>> {
  return callJson(ctx.db, "coord.archive_memories", [ageDays ?? null]);
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
