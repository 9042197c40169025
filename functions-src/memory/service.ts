/**
 * The memory capability's calls into SQL: one function call per operation, refusals turned into ApiErrors.
 */
import type { z } from "zod";
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import type { OpContext } from "../types.ts";
import type {
  ContextOut,
  DetailsOut,
  RecallIn,
  RecallOut,
  RememberIn,
  RememberOut,
  RetentionOut,
  SkillOutcomeIn,
  SkillOutcomeOut,
} from "./schemas.ts";

type Refusal = { ok: false; code: string; [k: string]: unknown };

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
    const r = await callJson<z.output<typeof RememberOut> | Refusal>(ctx.db, "coord.remember", [
      agentId,
      sessionId,
      compact(memory),
    ]);
    if ("ok" in r && r.ok === false) {
      throw new ApiError(
        409,
        "skill_name_taken",
        `The skill name ${input.name} is taken in repo "${input.repo ?? ""}"; choose another name.`,
      );
    }
    return r as z.output<typeof RememberOut>;
  }
  const session = ctx.identity.sessionId!;
  const content = input.details ? `${input.summary}\n${input.details}` : input.summary;
  const r = await callJson<z.output<typeof RememberOut> | Refusal>(ctx.db, "coord.add_working_item", [
    agentId,
    session,
    compact({
      content,
      kind: input.kind,
      priority: input.priority,
      pinned: input.pinned,
      budget_tokens: input.budget_tokens,
      repo: input.repo,
    }),
  ]);
  if ("ok" in r && r.ok === false) {
    throw new ApiError(
      409,
      "pinned_over_budget",
      `Pinned items would take ${Number(r.pinned_tokens) + Number(r.item_tokens)} of ${r.budget_tokens} tokens; unpin something ` +
        "(add it again with pinned=false), shorten it, or raise budget_tokens.",
      compact({ ...r, ok: undefined, code: undefined }),
    );
  }
  const { ok: _ok, ...out } = r as z.output<typeof RememberOut> & { ok?: boolean };
  return out;
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
export async function details(ctx: OpContext, ids: number[]): Promise<z.output<typeof DetailsOut>> {
  const r = await callJson<z.output<typeof DetailsOut>>(ctx.db, "coord.expand_memories", [
    ctx.identity.agentId,
    ctx.identity.sessionId,
    ids,
  ]);
  if (r.memories.length === 0) {
    throw new ApiError(
      404,
      "unknown_memory",
      `No memory with id ${ids.join(", ")} that you may see; take ids from recall.`,
    );
  }
  return r;
}

/** The caller's session working memory. */
export function context(ctx: OpContext): Promise<z.output<typeof ContextOut>> {
  return callJson(ctx.db, "coord.get_working_context", [ctx.identity.agentId, ctx.identity.sessionId!]);
}

/** Records an outcome of using a skill. */
export async function skillOutcome(
  ctx: OpContext,
  input: z.output<typeof SkillOutcomeIn>,
): Promise<z.output<typeof SkillOutcomeOut>> {
  const r = await callJson<z.output<typeof SkillOutcomeOut> | Refusal>(ctx.db, "coord.record_skill_outcome", [
    ctx.identity.agentId,
    ctx.identity.sessionId,
    input.repo ?? "",
    input.name,
    input.outcome,
  ]);
  if ("ok" in r && r.ok === false) {
    throw new ApiError(
      404,
      "unknown_skill",
      `No skill named ${input.name} in repo "${input.repo ?? ""}"; save it with remember layer=procedural first.`,
    );
  }
  const { ok: _ok, ...out } = r as z.output<typeof SkillOutcomeOut> & { ok?: boolean };
  return out;
}

/** Archives old unused episodic memories. */
export function retention(
  ctx: Pick<OpContext, "db">,
  ageDays: number | undefined,
): Promise<z.output<typeof RetentionOut>> {
  return callJson(ctx.db, "coord.archive_memories", [ageDays ?? null]);
}
