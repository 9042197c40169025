import { z } from "zod";
import { defineCapability } from "../ops/capability.ts";
import { callJson } from "../db/port.ts";
import { ApiError } from "../http/errors.ts";
import { defineOperation } from "../ops/operation.ts";
import { CreatedKey, createApiKey, KeyInfo, KeySpec, listApiKeys, revokeApiKey } from "./keys.ts";
import { identityConstraints } from "./refusals.ts";

/**
 * Keeps the caller's session alive for COORDINATOR_SESSION_TIMEOUT_SECONDS; capabilities renew the session's leases
 * (locks, claims) with it, never past that liveness.
 */
export const heartbeat = defineOperation({
  name: "heartbeat",
  title: "Session heartbeat",
  description: "Marks this session alive for the server's session timeout and renews its leases.",
  input: z.object({}),
  output: z.object({
    session_id: z.string(),
    heartbeat_at: z.string(),
    live_until: z.string().describe("Without another heartbeat (or call) the session is dead after this"),
    timeout_seconds: z.number().int(),
  }),
  hints: { idempotentHint: true },
  http: { method: "POST", path: "/sessions/heartbeat" },
  tool: false,
  access: "session",
  run: (ctx) =>
    callJson(ctx.db, "coord.heartbeat", [
      ctx.identity.agentId,
      ctx.identity.sessionId,
      ctx.identity.agentType,
      ctx.config.sessionTimeoutSeconds,
    ]),
  summarize: (o) => `session ${o.session_id} alive at ${o.heartbeat_at}, until ${o.live_until}`,
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

/** `POST /keys`: an operator makes a database key for one agent (what `npm run keys -- create` calls on a live server). */
export const createKey = defineOperation({
  name: "create_api_key",
  title: "Create an API key",
  description: "Admin only: make a key bound to an agent. The answer holds the key; it is shown only there.",
  input: KeySpec,
  output: CreatedKey,
  hints: { destructiveHint: false },
  http: { method: "POST", path: "/keys", status: 201 },
  tool: false,
  access: "admin",
  run: (ctx, i) => createApiKey(ctx.db, i),
  summarize: (o) => `key ${o.key_prefix}… for ${o.agent_id} (${o.scope}, trust ${o.trust_level})`,
});

/** `GET /keys`: the database keys, without the keys. */
export const listKeys = defineOperation({
  name: "list_api_keys",
  title: "List API keys",
  description: "Admin only: database keys with prefix, agent, scope, trust, label, last use and revocation.",
  input: z.object({ limit: z.number().int().min(1).max(1000).default(200) }),
  output: z.object({ keys: z.array(KeyInfo) }),
  hints: { readOnlyHint: true },
  http: { method: "GET", path: "/keys" },
  tool: false,
  access: "admin",
  run: async (ctx, i) => ({ keys: await listApiKeys(ctx.db, i.limit) }),
  summarize: (o) => `${o.keys.length} keys`,
});

/** `DELETE /keys/:id`: revoke by the key's id or its prefix; effective on the next request. */
export const revokeKey = defineOperation({
  name: "revoke_api_key",
  title: "Revoke an API key",
  description: "Admin only: revoke the database key with this id or prefix; the next request with it is refused.",
  input: z.object({ id: z.string().trim().min(6).max(64).describe("The key's id, or its prefix (from GET /keys)") }),
  output: z.object({ revoked: z.number().int() }),
  hints: { destructiveHint: true, idempotentHint: true },
  http: { method: "DELETE", path: "/keys/:id" },
  tool: false,
  access: "admin",
  run: async (ctx, i) => {
    const r = await revokeApiKey(ctx.db, i.id);
    if (r.revoked === 0) {
      throw new ApiError(404, "not_found", `No active key has id or prefix ${i.id}; GET /keys lists them.`);
    }
    return r;
  },
  summarize: (o) => `revoked ${o.revoked} key(s)`,
});

export const identityCapability = defineCapability({
  name: "identity",
  constraints: identityConstraints,
  // Heartbeats and claims declare dead sessions dead too; this covers a coordinator nobody is calling.
  maintenance: (deps) => callJson(deps.db, "coord.expire_sessions", [1000]),
  operations: [heartbeat, endSession, whoami, createKey, listKeys, revokeKey],
});
