/**
 * API keys stored in the database: generation, creation (stored only as a SHA-256 digest), listing and revocation.
 * The admin operations (`POST /keys`, `GET /keys`, `DELETE /keys/:id`) and `npm run keys` on a database no server holds
 * both come here. Hashing and comparison live in util/bytes.ts.
 */
import { z } from "zod";
import { callJson, type Queryable } from "../db/port.ts";
import { callOp } from "../ops/call.ts";
import { keyRefusals } from "./refusals.ts";
import { encodeBase64Url, sha256Bytes, toHex } from "../util/bytes.ts";
import { AgentId } from "./agent-id.ts";

/** A new random API key: `ac_` and 32 random bytes, base64url. */
export function generateApiKey(): string {
  return `ac_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The part of a key shown in listings and accepted by revoke: enough to tell keys apart, useless to log in. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}

/** What a new key is for: the agent it is bound to, its scope and trust level. */
export const KeySpec = z.object({
  agent_id: AgentId.describe("The agent the key acts as (an admin key may act as any agent)"),
  scope: z.enum(["agent", "admin"]).default("agent"),
  trust_level: z.number().int().min(0).max(4).default(2).describe("The verification gateway routes by it"),
  label: z.string().trim().min(1).max(200).optional().describe("What the key is for, shown in listings"),
  expires_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("When the key stops working (401 key_expired) and frees its agent id; default never"),
});

/** A created key: the plaintext key, shown this once, and what identifies it later. */
export const CreatedKey = z.object({
  id: z.string(),
  key: z.string().describe("The key itself; it is not stored and is shown only in this answer"),
  key_prefix: z.string(),
  agent_id: z.string(),
  scope: z.enum(["agent", "admin"]),
  trust_level: z.number().int(),
  label: z.string().nullable(),
  expires_at: z.string().nullable(),
});

/** One key in a listing: never the key or its digest. */
export const KeyInfo = z.object({
  id: z.string(),
  key_prefix: z.string(),
  agent_id: z.string(),
  scope: z.enum(["agent", "admin"]),
  trust_level: z.number().int(),
  label: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked: z.boolean(),
  expired: z.boolean(),
});

/** Makes a key and stores its digest (`coord.create_api_key`); the answer is the only place the key appears. */
export async function createApiKey(
  db: Queryable,
  spec: z.output<typeof KeySpec>,
): Promise<z.output<typeof CreatedKey>> {
  const key = generateApiKey();
  const created = await callOp<{ id: string }>(
    db,
    "coord.create_api_key",
    [
      toHex(await sha256Bytes(key)),
      keyPrefix(key),
      spec.agent_id,
      spec.scope,
      spec.trust_level,
      spec.label ?? null,
      spec.expires_at ?? null,
    ],
    keyRefusals,
  );
  return {
    id: created.id,
    key,
    key_prefix: keyPrefix(key),
    agent_id: spec.agent_id,
    scope: spec.scope,
    trust_level: spec.trust_level,
    label: spec.label ?? null,
    expires_at: spec.expires_at ?? null,
  };
}

/** Revokes the active keys with this id or prefix (`coord.revoke_api_key`); answers how many. */
export async function revokeApiKey(db: Queryable, idOrPrefix: string): Promise<{ revoked: number }> {
  return callJson<{ revoked: number }>(db, "coord.revoke_api_key", [idOrPrefix]);
}

/** The stored keys, oldest first, at most `limit`: prefix, agent, scope, trust, label, use, revocation. */
export async function listApiKeys(db: Queryable, limit: number): Promise<Array<z.output<typeof KeyInfo>>> {
  const [row] = await db.query<{ keys: Array<z.output<typeof KeyInfo>> }>(
    `select coalesce(jsonb_agg(jsonb_build_object(
        'id', id, 'key_prefix', key_prefix, 'agent_id', agent_id, 'scope', scope, 'trust_level', trust_level,
        'label', label, 'created_at', created_at, 'last_used_at', last_used_at, 'expires_at', expires_at,
        'revoked', revoked_at is not null, 'expired', coalesce(expires_at <= now(), false))
      order by created_at, id), '[]'::jsonb) as keys
       from (select * from coord.api_keys order by created_at, id limit $1) k`,
    [limit],
  );
  return row!.keys;
}
