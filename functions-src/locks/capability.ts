import { z } from "zod";
import { AgentId } from "../identity/agent-id.ts";
import { defineCapability } from "../ops/capability.ts";
import { callJson } from "../db/port.ts";
import { defineOperation } from "../ops/operation.ts";
import { Cursor } from "../ops/paging.ts";
import { LockKey, RepoName } from "./keys.ts";
import { clock, lockConstraints } from "./refusals.ts";
import { AcquireOut, CheckOut, MAX_KEYS_PER_CALL, ReleaseOut, VerifyOut } from "./schemas.ts";
import { acquireLocks, checkLocks, releaseLocks, verifyLock } from "./service.ts";

// The seed's argument names: one path (`file_path`) or many (`file_paths`); both may be given.
const keyFields = {
  file_path: LockKey.optional(),
  file_paths: z.array(LockKey).max(MAX_KEYS_PER_CALL, `at most ${MAX_KEYS_PER_CALL} paths per call`).optional(),
};

function keysOf(input: { file_path?: string; file_paths?: string[] }): string[] {
  return [...new Set([...(input.file_path ? [input.file_path] : []), ...(input.file_paths ?? [])])];
}

const needKeys = (i: { file_path?: string; file_paths?: string[] }) => keysOf(i).length > 0;
const capKeys = (i: { file_path?: string; file_paths?: string[] }) => keysOf(i).length <= MAX_KEYS_PER_CALL;
const NEED_KEYS = { message: "send file_path or file_paths", path: ["file_path"] };
const CAP_KEYS = { message: `at most ${MAX_KEYS_PER_CALL} paths per call`, path: ["file_paths"] };

/** `acquire_lock`: all-or-nothing, with an optional bounded wait. */
export const acquireLock = defineOperation({
  name: "acquire_lock",
  title: "Acquire locks",
  description:
    "Lock paths before editing them; all or nothing. Answers a fencing token per key; on conflict, who holds what " +
    "(wait_seconds waits for release).",
  input: z
    .object({
      repo: RepoName,
      ...keyFields,
      reason: z.string().max(500).optional().describe("Why: shown to agents you block"),
      ttl_minutes: z.number().int().min(1).max(480).default(30).describe("Lease; heartbeats renew it"),
      wait_seconds: z.number().min(0).max(20).default(0),
    })
    .refine(needKeys, NEED_KEYS)
    .refine(capKeys, CAP_KEYS),
  output: AcquireOut,
  hints: { destructiveHint: false, idempotentHint: true },
  http: { method: "POST", path: "/locks/acquire" },
  run: (ctx, i) =>
    acquireLocks(ctx, {
      repo: i.repo,
      keys: keysOf(i),
      reason: i.reason ?? null,
      ttlMinutes: i.ttl_minutes,
      waitSeconds: i.wait_seconds,
    }),
  summarize: (o) =>
    `locked ${o.locks.map((l) => `${l.key} (token ${l.token})`).join(", ")} until ${clock(o.locks[0]!.expires_at)}`,
});

/** `release_lock`: by the holder; an admin may force. */
export const releaseLock = defineOperation({
  name: "release_lock",
  title: "Release locks",
  description:
    "Release your locks on these exact keys. Reports what was released and what you did not hold (and who does).",
  input: z
    .object({
      repo: RepoName,
      ...keyFields,
      force: z.boolean().default(false).describe("Admin only: release another agent's lock"),
    })
    .refine(needKeys, NEED_KEYS)
    .refine(capKeys, CAP_KEYS),
  output: ReleaseOut,
  hints: { destructiveHint: true, idempotentHint: true },
  http: { method: "POST", path: "/locks/release" },
  access: (i) => (i.force ? "admin" : "agent"),
  run: (ctx, i) => releaseLocks(ctx, i.repo, keysOf(i), i.force),
  summarize: (o) => {
    const parts = [];
    if (o.released.length) parts.push(`released ${o.released.map((r) => r.key).join(", ")}`);
    for (const n of o.not_held) {
      parts.push(
        `${n.key} was not held by you${n.held_by ? ` (covered by ${n.held_by.key} of ${n.held_by.agent_id})` : ""}`,
      );
    }
    return parts.join("; ");
  },
});

/** `check_locks`: who holds what, never expired locks. */
export const checkLocksOp = defineOperation({
  name: "check_locks",
  title: "Check locks",
  description:
    "Active locks on these paths (including directory locks covering them and locks inside a directory), or all in the repo.",
  input: z
    .object({
      repo: RepoName,
      ...keyFields,
      limit: z.number().int().min(1).max(500).default(100),
      cursor: Cursor.optional(),
    })
    .refine(capKeys, CAP_KEYS),
  output: CheckOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/locks" },
  run: (ctx, i) => checkLocks(ctx, i.repo, keysOf(i), i.limit, i.cursor),
  summarize: (o) =>
    o.locks.length === 0
      ? "no active locks"
      : `${o.locks.length}${o.truncated ? "+" : ""} active: ` +
        o.locks
          .slice(0, 10)
          .map((l) => `${l.key} by ${l.agent_id} until ${clock(l.expires_at)}`)
          .join("; "),
});

/** `verify_lock`: the fencing check for hooks and CI. */
export const verifyLockOp = defineOperation({
  name: "verify_lock",
  title: "Verify a lock (fencing)",
  description: "Confirm an agent (default: you) still holds a path with a fencing token; lock_lost error if not.",
  input: z.object({
    repo: RepoName,
    file_path: LockKey,
    fencing_token: z.number().int().positive().describe("The token acquire_lock returned"),
    agent_id: AgentId.optional().describe("Holder to check (default: the caller)"),
  }),
  output: VerifyOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "POST", path: "/locks/verify" },
  run: (ctx, i) => verifyLock(ctx, i.repo, i.agent_id ?? ctx.identity.agentId, i.file_path, i.fencing_token),
  summarize: (o) =>
    `${o.agent_id} holds ${o.key} with token ${o.token} (via ${o.lock.key}) until ${clock(o.lock.expires_at)}`,
});

/** POST /locks/sweep: admin housekeeping; heartbeats already sweep a little each time. */
export const sweepLocks = defineOperation({
  name: "sweep_locks",
  title: "Sweep expired locks",
  description: "Delete expired locks (recorded as lock.expired).",
  input: z.object({ limit: z.number().int().min(1).max(10000).default(1000) }),
  output: z.object({ swept: z.number().int() }),
  hints: { destructiveHint: true, idempotentHint: true },
  http: { method: "POST", path: "/locks/sweep" },
  tool: false,
  access: "admin",
  run: (ctx, i) => callJson(ctx.db, "coord.sweep_expired_locks", [i.limit]),
  summarize: (o) => `swept ${o.swept} expired locks`,
});

export const locksCapability = defineCapability({
  name: "locks",
  constraints: lockConstraints,
  // Expired locks never block anyone, but swept rows keep the table (and check_locks) small.
  maintenance: (deps) => callJson(deps.db, "coord.sweep_expired_locks", [1000]),
  operations: [acquireLock, releaseLock, checkLocksOp, verifyLockOp, sweepLocks],
  resources: [
    {
      name: "locks",
      uri: "locks://current",
      title: "Current locks",
      description: "Active locks in every repo (key, holder, reason, token, expiry), up to 200.",
      read: (ctx) => callJson(ctx.db, "coord.current_locks", [200]),
    },
  ],
});
