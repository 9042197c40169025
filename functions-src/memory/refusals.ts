/** What each refusal of the memory SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";
import { defineConstraints } from "../db/errors.ts";

export const memoryRefusals = defineRefusals({
  skill_name_taken: (r) =>
    new ApiError(
      409,
      "skill_name_taken",
      `The skill name ${r.name} is taken in repo "${r.repo}"; choose another name.`,
    ),
  pinned_over_budget: (r) =>
    new ApiError(
      409,
      "pinned_over_budget",
      `Pinned items would take ${Number(r.pinned_tokens) + Number(r.item_tokens)} of ${r.budget_tokens} tokens; unpin ` +
        "something (add it again with pinned=false), shorten it, or raise budget_tokens.",
      { budget_tokens: r.budget_tokens, pinned_tokens: r.pinned_tokens, item_tokens: r.item_tokens },
    ),
  unknown_skill: (r) =>
    new ApiError(
      404,
      "unknown_skill",
      `No skill named ${r.name} in repo "${r.repo}"; save it with remember layer=procedural first.`,
    ),
  unknown_memory: (r) =>
    new ApiError(
      404,
      "unknown_memory",
      `No memory with id ${(r.ids as number[]).join(", ")} that you may see; take ids from recall.`,
    ),
});

/** Memory's checks on caller input, for anything validation lets through (the 400 names the field). */
export const memoryConstraints = defineConstraints({
  "memories.memories_check": {
    field: "name",
    message: "only procedural memories carry a name; send layer: procedural, or leave name out",
  },
  "memories.memories_summary_check": { field: "summary", message: "1 to 500 characters" },
  "memories.memories_details_check": { field: "details", message: "at most 8000 characters" },
  "memories.memories_lessons_check": { field: "lessons", message: "at most 4000 characters" },
  "memories.memories_preconditions_check": { field: "preconditions", message: "at most 2000 characters" },
  "memories.memories_name_check": { field: "name", message: "lowercase letters, digits and ._- only, at most 100" },
  "memories.memories_event_type_check": { field: "event_type", message: "letters, digits and _.:- only, at most 64" },
  "memories.memories_repo_check": { field: "repo", message: "at most 200 characters" },
  "memories.memories_outcome_check": { field: "outcome", message: "success, failure or partial" },
  "working_items.working_items_task_id_check": { field: "task_id", message: "at most 128 characters" },
  "memories.memories_visibility_check": { field: "visibility", message: "shared or private" },
  "memories.memories_layer_check": { field: "layer", message: "episodic, working or procedural" },
  "working_items.working_items_content_check": {
    field: "details",
    message: "working items hold 1 to 8000 characters (summary + details)",
  },
  "working_items.working_items_kind_check": {
    field: "kind",
    message: "goal, decision, constraint, observation or note",
  },
  "working_items.working_items_priority_check": { field: "priority", message: "1 to 5" },
  "working_sessions.working_sessions_budget_tokens_check": { field: "budget_tokens", message: "100 to 100000" },
});
