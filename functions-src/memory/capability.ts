import { z } from "zod";
import { type Capability, defineCapability } from "../ops/capability.ts";
import { defineOperation } from "../ops/operation.ts";
import {
  ContextOut,
  DetailsIn,
  DetailsOut,
  ListMemoriesIn,
  ListMemoriesOut,
  RecallIn,
  RecallOut,
  RememberIn,
  RememberOut,
  RetentionIn,
  RetentionOut,
  SkillOutcomeIn,
  SkillOutcomeOut,
} from "./schemas.ts";
import { memoryConstraints } from "./refusals.ts";
import * as memory from "./service.ts";
import { MemoryWorker } from "./worker.ts";
import type { AppDeps } from "../types.ts";

/** The capability's state: the embedding provider and its background work. */
const worker = (deps: Pick<AppDeps, "state">): MemoryWorker => deps.state(memoryCapability as Capability<MemoryWorker>);

/** Stores a memory in one of the three layers. */
export const remember = defineOperation({
  name: "remember",
  title: "Remember",
  description:
    "Store a memory. layer=episodic (default): an experience, deduplicated within an hour; working: this session's " +
    "budgeted context; procedural: a named skill with steps. Secrets are redacted.",
  input: RememberIn,
  output: RememberOut,
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/memory", status: 201 },
  // Working memory belongs to one session; the other layers to the agent.
  access: (input) => (input.layer === "working" ? "session" : "agent"),
  rate: "memoryWrites",
  run: (ctx, input) => memory.remember(ctx, input, worker(ctx)),
  summarize: (o) => {
    const moved = (o.evicted?.length ?? 0) + (o.cut?.length ?? 0);
    return (
      `${o.layer} memory ${o.id} ${o.status}` +
      (o.occurrences && o.occurrences > 1 ? ` (${o.occurrences} occurrences)` : "") +
      (o.tokens_used !== undefined ? `; ${o.tokens_used}/${o.budget_tokens} tokens` : "") +
      (moved ? `; ${o.evicted?.length ?? 0} evicted, ${o.cut?.length ?? 0} cut to episodic` : "") +
      (o.redacted ? "; secrets redacted" : "")
    );
  },
});

/** Ranks stored memories for a task. */
export const recall = defineOperation({
  name: "recall",
  title: "Recall",
  description:
    "Find memories relevant to a task: compact rows (id, layer, summary, score, why). Empty when nothing is " +
    "relevant. Expand with memory_details.",
  input: RecallIn,
  output: RecallOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "POST", path: "/memory/recall" },
  run: (ctx, input) => memory.recall(ctx, input, worker(ctx)),
  summarize: (o) =>
    o.results.length === 0
      ? (o.message ?? "No relevant memory.")
      : o.results
          .map(
            (r) =>
              `#${r.id} [${r.layer}${r.name ? ` ${r.name}` : ""}] ${r.summary} (${r.score})` +
              (r.stale ? ` [${r.stale}]` : ""),
          )
          .join("\n"),
});

/** Expands memories by id. */
export const memoryDetails = defineOperation({
  name: "memory_details",
  title: "Memory details",
  description: "Full details of memories by id (from recall). confirm=true: you checked stale ones still hold.",
  input: DetailsIn,
  output: DetailsOut,
  hints: { destructiveHint: false },
  http: { method: "GET", path: "/memory/details" },
  run: (ctx, input) => memory.details(ctx, input.ids, input.confirm),
  summarize: (o) =>
    o.memories.map((m) => `#${m.id} ${m.summary}`).join("\n") +
    (o.missing.length ? `\nmissing: ${o.missing.join(", ")}` : "") +
    (o.confirmed.length ? `\nconfirmed (no longer stale): ${o.confirmed.join(", ")}` : ""),
});

/** The session's working memory. */
export const getContext = defineOperation({
  name: "get_context",
  title: "Working context",
  description: "This session's working memory, pinned and most important first, within its token budget.",
  input: z.object({}),
  output: ContextOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/memory/context" },
  access: "session",
  run: (ctx) => memory.context(ctx),
  summarize: (o) =>
    [
      `${o.items.length} items, ${o.tokens_used}/${o.budget_tokens} tokens`,
      ...o.items.map((i) => `${i.pinned ? "*" : "-"} [${i.kind} p${i.priority}] ${i.content}`),
    ].join("\n"),
});

/** Reports how using a skill went. */
export const reportSkillOutcome = defineOperation({
  name: "report_skill_outcome",
  title: "Report skill outcome",
  description: "Report success, failure or partial after using a procedural skill; failing skills rank lower.",
  input: SkillOutcomeIn,
  output: SkillOutcomeOut,
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/memory/skills/outcome" },
  rate: "memoryWrites",
  run: (ctx, input) => memory.skillOutcome(ctx, input),
  summarize: (o) =>
    `skill ${o.name}: ${o.successes} successes, ${o.failures} failures, success rate ${o.success_rate}` +
    (o.deduplicated ? " (already counted under this idempotency_key)" : ""),
});

/** Lists memories, a page at a time (REST: browsing and tooling; agents recall instead). */
export const listMemories = defineOperation({
  name: "list_memories",
  title: "List memories",
  description: "Episodic and procedural memories you may see, newest first, a page at a time.",
  input: ListMemoriesIn,
  output: ListMemoriesOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/memory" },
  tool: false,
  run: (ctx, input) => memory.list(ctx, input),
  summarize: (o) => `${o.memories.length} memories${o.next_cursor ? " (more: pass next_cursor)" : ""}`,
});

/** Operator action: archive old unused episodic memories (schedule it). */
export const memoryRetention = defineOperation({
  name: "memory_retention",
  title: "Memory retention",
  description: "Archive episodic memories unseen and unused for age_days. Admin only.",
  input: RetentionIn,
  output: RetentionOut,
  hints: { destructiveHint: false, idempotentHint: true },
  http: { method: "POST", path: "/memory/retention" },
  tool: false,
  access: "admin",
  run: (ctx, input) => memory.retention(ctx, input.age_days, worker(ctx)),
  summarize: (o) =>
    `archived ${o.archived} episodic memories older than ${o.age_days} days` +
    (o.embedded !== undefined ? `; embedded ${o.embedded}` : ""),
});

/**
 * Memory: episodic, working and procedural layers (docs/MEMORY.md). Its state is the embedding worker (provider from
 * `config.memory.embeddings`: MEMORY_EMBEDDINGS, MEMORY_EMBEDDING_URL, …).
 */
export const memoryCapability = defineCapability({
  name: "memory",
  constraints: memoryConstraints,
  setup: (deps) => new MemoryWorker(deps.db, deps.log, deps.config.memory.embeddings, deps.fetch),
  // Retention with the configured age (setting retention_days; it also refreshes recall's statistics), then the
  // embedding backfill.
  maintenance: (deps) => memory.retention(deps, undefined, worker(deps)),
  operations: [remember, recall, memoryDetails, getContext, reportSkillOutcome, memoryRetention, listMemories],
});
