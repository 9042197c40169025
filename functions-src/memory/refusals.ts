/** What each refusal of the memory SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";

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
