import { Hono } from "hono";
import { z } from "zod";
import { callJson } from "../db/port.ts";
import { LockKey, Repo } from "../locks/keys.ts";
import { callOp } from "../ops/call.ts";
import { defineCapability } from "../ops/capability.ts";
import { defineOperation } from "../ops/operation.ts";
import { Cursor, decodeCursor, encodeCursor, NextCursor } from "../ops/paging.ts";
import type { AppDeps, AppEnv } from "../types.ts";
import { E2BClient } from "./e2b.ts";
import { fencingSummary } from "./fencing.ts";
import { GitHubClient } from "./github.ts";
import { verificationConstraints, verificationRefusals } from "./refusals.ts";
import { ChangesetOut, type ChangesetView, Policy } from "./schemas.ts";
import { TIER_NAMES, VerificationService } from "./service.ts";
import { createBodyBudget } from "../http/unverified-body.ts";
import { GITHUB_MAX_BODY_BYTES, MAX_FILES, WEBHOOK_DOCS, webhookRoutes, type Defer } from "./webhooks.ts";

const SHA = z.string().regex(/^[0-9a-f]{40}$/, "a 40-character lowercase hex commit sha");
const REPO = z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, "owner/name");
const PATH = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "a relative path without ..");

const FileIn = z
  .object({
    path: PATH,
    status: z.enum(["added", "modified", "removed", "renamed"]),
    previous_path: PATH.optional(),
    content: z
      .string()
      .max(256 * 1024)
      .optional(),
    diff: z
      .string()
      .max(256 * 1024)
      .optional(),
    size: z
      .number()
      .int()
      .min(0)
      .max(2 ** 40)
      .optional(),
  })
  .refine((f) => f.status !== "renamed" || f.previous_path !== undefined, {
    message: "a renamed file needs previous_path",
    path: ["previous_path"],
  });

/** One line an agent can act on: state, tier, and what is still missing. */
function summarizeChangeset(v: ChangesetView): string {
  const open = v.results
    .filter((r) => r.status !== "passed")
    .map((r) => `tier ${r.tier} ${TIER_NAMES[r.tier]} ${r.status}${r.summary ? ` (${r.summary.slice(0, 80)})` : ""}`);
  const fencing = fencingSummary(v.fencing);
  const head = `changeset ${v.id} ${v.repo}@${v.commit_sha.slice(0, 12)}: ${v.state}, tier ${v.tier} (${TIER_NAMES[v.tier]})${fencing ? `; ${fencing}` : ""}`;
  return open.length ? `${head}; open: ${open.join("; ")}` : `${head}; every required tier passed on this commit`;
}

/** The gateway's per-app service, built by the capability's setup. */
const gateway = (deps: AppDeps): VerificationService => deps.state(verificationCapability);

/** `submit_changes`: route a commit's change to its tier and start the verification. */
export const submitChanges = defineOperation({
  name: "submit_changes",
  title: "Submit changes for verification",
  description: "Submit a commit's changed files for verification. Answers the tier, why, and each tier's state.",
  input: z.object({
    repo: REPO,
    branch: z.string().min(1).max(255).optional(),
    commit_sha: SHA,
    files: z.array(FileIn).min(1).max(MAX_FILES, `at most ${MAX_FILES} files per change; split the change`),
    task_id: z.string().max(128).optional(),
    lock_tokens: z
      .array(
        z.object({
          path: LockKey.optional(),
          token: z.number().int().positive(),
          repo: Repo.optional().describe("Lock repo (default: this repo if it has locks, else 'default')"),
        }),
      )
      .max(1000)
      .optional()
      .describe("Fencing tokens the change was made under; a stale one refuses it (lock_lost)"),
    reverts_commit: SHA.optional(),
    commits: z
      .array(
        z.object({
          sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full lowercase hex commit id"),
          message: z.string().max(64 * 1024),
          committed_at: z.iso.datetime({ offset: true }),
        }),
      )
      .max(250)
      .optional()
      .describe("Its commits (committed_at: git's %cI): lock-token trailers are checked"),
  }),
  output: ChangesetOut,
  hints: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
  http: { method: "POST", path: "/webhook/agent", status: 201 },
  run: (ctx, i) =>
    gateway(ctx).submit({
      source: "agent",
      repo: i.repo,
      branch: i.branch ?? null,
      commitSha: i.commit_sha,
      agentId: ctx.identity.agentId,
      agentBound: ctx.identity.bound,
      sessionId: ctx.identity.sessionId,
      taskId: i.task_id,
      lockTokens: i.lock_tokens,
      commits: i.commits?.map((c) => ({ sha: c.sha, message: c.message, committedAt: c.committed_at })),
      files: i.files,
      revertsCommit: i.reverts_commit,
    }),
  summarize: summarizeChangeset,
});

/** `verification_status`: the changeset document, by id. */
export const verificationStatus = defineOperation({
  name: "verification_status",
  title: "Verification status",
  description: "A changeset's state, tier, reasons and per-tier results.",
  input: z.object({ id: z.uuid() }),
  output: ChangesetOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/changesets/:id" },
  run: (ctx, i) => callOp(ctx.db, "coord.get_changeset", [i.id], verificationRefusals),
  summarize: summarizeChangeset,
});

/** `POST /changesets/:id/review`: an operator approves or rejects the manual tier. */
export const reviewChangeset = defineOperation({
  name: "review_changeset",
  title: "Approve or reject a tier-4 change",
  description: "Admin only: approve or reject the manual tier of a changeset, with a note.",
  input: z.object({ id: z.uuid(), decision: z.enum(["approve", "reject"]), note: z.string().min(1).max(2000) }),
  output: ChangesetOut,
  hints: { destructiveHint: false, idempotentHint: false },
  http: { method: "POST", path: "/changesets/:id/review" },
  tool: false,
  access: "admin",
  run: async (ctx, i) => {
    const r = await callOp<{ changeset: ChangesetView }>(
      ctx.db,
      "coord.review_changeset",
      [i.id, i.decision === "approve", i.note, ctx.identity.agentId],
      verificationRefusals,
    );
    const svc = gateway(ctx);
    svc.track(svc.syncCheckRuns());
    return r.changeset;
  },
  summarize: summarizeChangeset,
});

/** `GET /approvals`: the tier-4 queue. */
export const listApprovals = defineOperation({
  name: "list_approvals",
  title: "Approval queue",
  description: "Admin only: tier-4 changesets waiting for review, oldest first.",
  input: z.object({ limit: z.number().int().min(1).max(200).default(50), cursor: Cursor.optional() }),
  output: z.object({
    next_cursor: NextCursor,
    approvals: z.array(
      z.object({
        changeset_id: z.string(),
        repo: z.string(),
        branch: z.string().nullable(),
        commit_sha: z.string(),
        agent_id: z.string(),
        waiting_since: z.string(),
        matches: z.unknown(),
      }),
    ),
  }),
  hints: { readOnlyHint: true },
  http: { method: "GET", path: "/approvals" },
  tool: false,
  access: "admin",
  run: async (ctx, i) => {
    const after = decodeCursor(i.cursor, z.tuple([z.string().max(64), z.string().max(64)]));
    const r = await callOp<{ approvals: never[]; next_cursor: unknown }>(
      ctx.db,
      "coord.approval_queue",
      [i.limit, after],
      verificationRefusals,
    );
    return { approvals: r.approvals, next_cursor: encodeCursor(r.next_cursor) };
  },
  summarize: (o) => `${o.approvals.length} change(s) awaiting approval`,
});

/** `GET /verification/policies`: the routing policies and the caller's trust. */
export const listPolicies = defineOperation({
  name: "verification_policies",
  title: "Routing policies",
  description: "The routing policies and the caller's trust score.",
  input: z.object({}),
  output: z.object({
    version: z.string(),
    policies: z.array(Policy),
    trust: z.record(z.string(), z.unknown()),
  }),
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/verification/policies" },
  tool: false,
  run: async (ctx) => ({
    ...(await callJson<{ version: string; policies: Array<z.output<typeof Policy>> }>(
      ctx.db,
      "coord.routing_policies",
    )),
    trust: await callJson<Record<string, unknown>>(ctx.db, "coord.get_agent_trust", [ctx.identity.agentId]),
  }),
  summarize: (o) => `${o.policies.length} policies (version ${o.version.slice(0, 8)})`,
});

/**
 * The verification gateway, configured by `config.verification` (GITHUB_WEBHOOK_SECRET, GITHUB_TOKEN or
 * GITHUB_APP_ID/GITHUB_APP_PRIVATE_KEY, VERIFICATION_CALLBACK_SECRET, E2B_API_KEY, …; see docs/VERIFICATION.md).
 * Its state is the gateway service: GitHub and E2B clients over the app's outbound fetch, and the background work
 * that runs past a response.
 */
export const verificationCapability = defineCapability({
  name: "verification",
  constraints: verificationConstraints,
  operations: [submitChanges, verificationStatus, reviewChangeset, listApprovals, listPolicies],
  // GitHub caps webhook payloads at 25 MB; a large push must not be refused by the app's general 1 MiB cap.
  bodyLimits: { "/webhook/github": GITHUB_MAX_BODY_BYTES },
  routeDocs: WEBHOOK_DOCS,
  setup(deps) {
    const config = deps.config.verification;
    const svc = new VerificationService(
      deps.db,
      deps.log,
      config,
      new GitHubClient(config, deps.fetch),
      new E2BClient(config, deps.fetch),
    );
    // Results recorded by SQL triggers (the work queue's complete_work) arrive as verification events on the feed:
    // a long-lived host brings the check run up to date from there. Edge hosts catch up on the next request.
    if (svc.github.configured) {
      deps.feed
        .subscribe((events) => {
          if (events.some((e) => e.kind.startsWith("verification."))) svc.track(svc.syncCheckRuns());
        })
        .catch((err) => deps.log.warn("verification: event feed unavailable", { error: (err as Error).message }));
    }
    return svc;
  },
  routes(deps) {
    const svc = gateway(deps);
    const defer: Defer = (c, work) => {
      const p = svc.track(work());
      // Keep the isolate alive until the work is done where the host can: Supabase Edge (EdgeRuntime.waitUntil),
      // Workers-style hosts (executionCtx). On Node the tracked promise simply runs on.
      const edge = (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } }).EdgeRuntime;
      if (edge) return edge.waitUntil(p);
      try {
        c.executionCtx.waitUntil(p);
      } catch {
        // No execution context: nothing to extend.
      }
    };
    // Unverified webhook and callback bodies share one byte budget per app (see http/unverified-body.ts).
    const budget = createBodyBudget(deps.config.unverifiedBodyBytes);
    return new Hono<AppEnv>().route("/", webhookRoutes(svc, defer, budget, deps.config.maxBodyBytes));
  },
});
