/** What each refusal of the identity SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";

export const keyRefusals = defineRefusals({
  invalid_key: () => new ApiError(401, "invalid_key", "API key not recognised or revoked."),
  key_bound_to_other_agent: (r) =>
    new ApiError(
      403,
      "key_bound_to_other_agent",
      `This key is bound to agent ${r.bound_agent_id}; it cannot act as ${r.agent_id}.`,
    ),
});
