/** The locks capability's answers, declared once: operations, services and the typed client all use these. */
import { z } from "zod";
import { NextCursor } from "../ops/paging.ts";

/** Keys per call: bounds the advisory locks one transaction takes (each key also locks its ancestor scopes). */
export const MAX_KEYS_PER_CALL = 50;

/**
 * Whether a lock's holder is still running, as refusals (lock_conflict, not_holder) show it next to each lock: alive
 * (its session heartbeats), unresponsive (no heartbeat for over half the session timeout: released at expires_at
 * unless it beats again), dead, or none (no heartbeating session: its TTL bounds it).
 */
export interface Holder {
  state: "alive" | "unresponsive" | "dead" | "none";
  /** Its session's last heartbeat (or call). */
  last_heartbeat_at?: string;
  live_until?: string;
  timeout_seconds?: number;
}

/** A lock as every answer shows it (never its session id). */
export const Lock = z.object({
  key: z.string(),
  agent_id: z.string(),
  reason: z.string().nullable(),
  token: z.number().int().describe("Fencing token of the grant"),
  acquired_at: z.string(),
  expires_at: z.string(),
});
export type Lock = z.output<typeof Lock>;

/** A lock in a refusal: with its holder's liveness. */
export type HeldLock = Lock & { holder?: Holder };

export const AcquireOut = z.object({
  repo: z.string(),
  locks: z.array(Lock.extend({ refreshed: z.boolean().describe("Already yours: TTL extended, token kept") })),
  waited_ms: z.number().int(),
});

export const ReleaseOut = z.object({
  repo: z.string(),
  released: z.array(z.object({ key: z.string(), token: z.number().int(), holder: z.string() })),
  not_held: z.array(
    z.object({
      key: z.string(),
      held_by: z.object({ agent_id: z.string(), key: z.string(), expires_at: z.string() }).nullable(),
    }),
  ),
  released_at: z.string(),
});

export const CheckOut = z.object({
  repo: z.string(),
  locks: z.array(Lock),
  truncated: z.boolean(),
  next_cursor: NextCursor,
  now: z.string(),
});

export const VerifyOut = z.object({
  repo: z.string(),
  key: z.string(),
  agent_id: z.string(),
  token: z.number().int(),
  held: z.literal(true),
  lock: Lock,
});
