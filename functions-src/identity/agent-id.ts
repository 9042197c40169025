import { z } from "zod";

/** An agent id (also a session id): what X-Agent-Id, key bindings and `coord.agents` accept. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
export const AGENT_ID_RULE = "1–128 of letters, digits and . _ : @ -";

/** An agent type (X-Agent-Type, required_agent_type): claude_code, codex_cli, … */
export const AGENT_TYPE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const AGENT_TYPE_RULE = "1–64 of letters, digits and . _ -";

export const AgentId = z.string().regex(AGENT_ID_PATTERN, AGENT_ID_RULE);
export const AgentType = z.string().regex(AGENT_TYPE_PATTERN, AGENT_TYPE_RULE);

/** The identity headers as OpenAPI header parameters (component name → parameter), with the patterns above. */
export const IDENTITY_HEADERS = {
  AgentId: {
    name: "X-Agent-Id",
    in: "header",
    description: "The agent acting; may be left out with a key bound to an agent (then it must match)",
    schema: { type: "string", pattern: AGENT_ID_PATTERN.source },
  },
  AgentType: {
    name: "X-Agent-Type",
    in: "header",
    description: "claude_code, codex_cli, …",
    schema: { type: "string", pattern: AGENT_TYPE_PATTERN.source },
  },
  SessionId: {
    name: "X-Session-Id",
    in: "header",
    description: "The agent process; operations of a session (heartbeat, working memory) require it",
    schema: { type: "string", pattern: AGENT_ID_PATTERN.source },
  },
};
