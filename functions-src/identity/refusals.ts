/** What each refusal of the identity SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";
import { defineConstraints } from "../db/errors.ts";

export const keyRefusals = defineRefusals({
  invalid_key: () => new ApiError(401, "invalid_key", "API key not recognised or revoked."),
  key_expired: (r) =>
    new ApiError(
      401,
      "key_expired",
      `API key ${r.prefix} expired at ${r.expired_at}; ask an operator for a new one (npm run keys -- create).`,
    ),
  agent_id_reserved: (r) =>
    new ApiError(
      403,
      "agent_id_reserved",
      `Agent id ${r.agent_id} is bound to another key and reserved for it; use that key, or pick another X-Agent-Id.`,
      { agent_id: r.agent_id },
    ),
  invalid_input: (r) =>
    new ApiError(400, "invalid_input", `Invalid input — ${r.field}: ${r.message}`, {
      fields: [{ field: r.field, message: r.message }],
    }),
  key_bound_to_other_agent: (r) =>
    new ApiError(
      403,
      "key_bound_to_other_agent",
      `This key is bound to agent ${r.bound_agent_id}; it cannot act as ${r.agent_id}.`,
    ),
});

/** Identity headers as the tables check them (the headers are validated first; this is the net under it). */
export const identityConstraints = defineConstraints({
  "agents.agents_agent_id_check": { field: "X-Agent-Id", message: "1–128 of letters, digits and . _ : @ -" },
  "agents.agents_agent_type_check": { field: "X-Agent-Type", message: "1–64 characters" },
  "sessions.sessions_session_id_check": { field: "X-Session-Id", message: "1–128 of letters, digits and . _ : @ -" },
});
