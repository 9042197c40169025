import { z } from "zod";
import { defineCapability } from "../ops/capability.ts";
import { callJson } from "../db/port.ts";
import { defineOperation } from "../ops/operation.ts";
import { identityConstraints } from "./refusals.ts";

/** Keeps the caller's session alive; capabilities renew the session's leases (locks, claims) with it. */
export const heartbeat = defineOperation({
  name: "heartbeat",
  title: "Session heartbeat",
  description: "Marks this session alive and renews its leases.",
  input: z.object({}),
  output: z.object({ session_id: z.string(), heartbeat_at: z.string() }),
  hints: { idempotentHint: true },
  http: { method: "POST", path: "/sessions/heartbeat" },
  tool: false,
  access: "session",
  run: (ctx) =>
    callJson(ctx.db, "coord.heartbeat", [ctx.identity.agentId, ctx.identity.sessionId, ctx.identity.agentType]),
  summarize: (o) => `session ${o.session_id} alive at ${o.heartbeat_at}`,
});

/** Ends the caller's session; capabilities release what it held. */
export const endSession = defineOperation({
  name: "end_session",
  title: "End session",
  description: "Ends this session and releases what it held.",
  input: z.object({}),
  output: z.object({ session_id: z.string(), ended: z.boolean() }),
  hints: { destructiveHint: true, idempotentHint: true },
  http: { method: "POST", path: "/sessions/end" },
  tool: false,
  access: "session",
  run: (ctx) => callJson(ctx.db, "coord.end_session", [ctx.identity.agentId, ctx.identity.sessionId]),
  summarize: (o) => `session ${o.session_id} ${o.ended ? "ended" : "was not open"}`,
});

/** Who the server thinks the caller is: useful when wiring up keys and headers. */
export const whoami = defineOperation({
  name: "whoami",
  title: "Who am I",
  description: "The caller's resolved identity.",
  input: z.object({}),
  output: z.object({
    agent_id: z.string(),
    agent_type: z.string(),
    session_id: z.string().nullable(),
    scope: z.enum(["agent", "admin"]),
    trust_level: z.number().int(),
    bound: z.boolean().describe("The agent id is the key's own: trust and reviews count it"),
  }),
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/me" },
  tool: false,
  run: async ({ identity: i }) => ({
    agent_id: i.agentId,
    agent_type: i.agentType,
    session_id: i.sessionId,
    scope: i.scope,
    trust_level: i.trustLevel,
    bound: i.bound,
  }),
  summarize: (o) => `${o.agent_id} (${o.scope})`,
});

export const identityCapability = defineCapability({
  name: "identity",
  constraints: identityConstraints,
  operations: [heartbeat, endSession, whoami],
});
