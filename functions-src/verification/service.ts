import { callJson, type Db } from "../db/port.ts";
import { callOp, callOutcome } from "../ops/call.ts";
import { ApiError } from "../http/errors.ts";
import type { Logger } from "../http/log.ts";
import type { VerificationConfig } from "./config.ts";
import type { E2BClient } from "./e2b.ts";
import { type CommitInput, fencingInput, fencingLines } from "./fencing.ts";
import type { GitHubClient, CheckRunBody } from "./github.ts";
import type { CompiledPolicies, Policy } from "./routing.ts";
import { callbackSecretFor } from "./signatures.ts";
import { verificationRefusals } from "./refusals.ts";
import type { ChangesetView } from "./schemas.ts";
import type { StaticInput } from "./static.ts";

// routing.ts and static.ts (picomatch, yaml, smol-toml: CommonJS under Deno) are imported by the first submission, not
// at start: an edge instance that starts for another route should not pay for loading them.

/** A change to verify, from an agent or a GitHub event. */
export interface ChangeInput {
  source: "agent" | "github";
  repo: string;
  branch: string | null;
  commitSha: string;
  agentId: string;
  /** False when the agent id came with an unbound key (may be anyone's): such a change neither earns nor spends trust. */
  agentBound?: boolean;
  sessionId?: string | null;
  taskId?: string | null;
  lockTokens?: unknown[];
  /** The commits of the change, for their lock-token trailers (fenced commits). */
  commits?: readonly CommitInput[];
  files: StaticInput[];
  installationId?: number | null;
  prNumber?: number | null;
  revertsCommit?: string | null;
}

/** Paths kept with a changeset; a push may list more, and routing sees them all. */
export const MAX_STORED_FILES = 10_000;

export const TIER_NAMES = ["static", "unit", "integration", "system", "manual"] as const;

/**
 * The gateway's work: route a change, run tier 0, record it in one SQL call, start the executors (GitHub Actions,
 * E2B), and keep the commit's GitHub check run in step with the changeset. One instance per database.
 */
export class VerificationService {
  private compiled: CompiledPolicies | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private readonly background = new Set<Promise<void>>();

  constructor(
    readonly db: Db,
    readonly log: Logger,
    readonly config: VerificationConfig,
    readonly github: GitHubClient,
    readonly e2b: E2BClient,
  ) {}

  /** Runs work past the response that started it: failures are logged, and `settled()` waits for it. */
  track(work: Promise<void>): Promise<void> {
    const p = work
      .catch((err) => this.log.error("verification: background work failed", { error: (err as Error).message }))
      .finally(() => this.background.delete(p));
    this.background.add(p);
    return p;
  }

  /** Resolves once no background work is left (tests; a host draining before exit). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  /** The enabled policies, compiled once per policy version. */
  async policies(): Promise<CompiledPolicies> {
    const p = await callJson<{ version: string; policies: Policy[] }>(this.db, "coord.routing_policies");
    if (this.compiled?.version !== p.version) {
      const { CompiledPolicies } = await import("./routing.ts");
      this.compiled = new CompiledPolicies(p.version, p.policies);
    }
    return this.compiled;
  }

  /** Refuses repositories outside VERIFICATION_REPOS (when set). */
  checkRepo(repo: string): void {
    if (this.config.repos && !this.config.repos.includes(repo)) {
      throw new ApiError(
        404,
        "unknown_repository",
        `Repository ${repo} is not verified by this gateway; it verifies ${this.config.repos.join(", ")}.`,
      );
    }
  }

  /** Routes, checks and records a change, then starts its executors. Answers the changeset (existing if the commit is known). */
  async submit(input: ChangeInput): Promise<ChangesetView> {
    this.checkRepo(input.repo);
    const routing = (await this.policies()).route(input.files);
    const { runStaticChecks } = await import("./static.ts");
    const statics = runStaticChecks(input.files);
    const view = await callOp<ChangesetView>(
      this.db,
      "coord.submit_changeset",
      [
        {
          source: input.source,
          repo: input.repo,
          branch: input.branch,
          commit_sha: input.commitSha,
          agent_id: input.agentId,
          agent_bound: input.agentBound ?? true,
          session_id: input.sessionId ?? null,
          task_id: input.taskId ?? null,
          lock_tokens: input.lockTokens ?? [],
          fencing: input.commits?.length
            ? fencingInput(input.commits, {
                // An agent's commits are its own; a webhook's are whoever their trailers name.
                submitter: input.source === "agent" ? input.agentId : null,
                skewSeconds: this.config.clockSkewSeconds,
              })
            : null,
          file_count: input.files.length,
          // Paths and statuses only (contents were checked inline and are not kept), at most MAX_STORED_FILES of them:
          // routing above saw every file.
          files: input.files.slice(0, MAX_STORED_FILES).map((f) => ({
            path: f.path,
            status: f.status,
            ...(f.previous_path ? { previous_path: f.previous_path } : {}),
          })),
          routing,
          static: statics,
          executors: {
            unit: this.github.configured ? "github_actions" : "queue",
            integration: this.e2b.configured ? "e2b" : "queue",
          },
          installation_id: input.installationId ?? null,
          pr_number: input.prNumber ?? null,
          reverts_commit: input.revertsCommit ?? null,
        },
      ],
      verificationRefusals,
    );
    if (view.existing) {
      // Commits this submission added may have changed the evidence (fencing): bring the check run along.
      this.track(this.syncCheckRuns());
      return view;
    }
    await this.startExecutors(view);
    await this.syncCheckRuns();
    return { ...(await this.status(view.id))!, existing: false };
  }

  /** Starts the tiers whose executors the gateway calls itself: GitHub Actions (tier 1) and E2B sandboxes (tier 2). */
  async startExecutors(view: ChangesetView): Promise<void> {
    for (const r of view.results) {
      if (r.status !== "pending") continue;
      if (r.executor === "github_actions") {
        await this.started(r.id, async () => {
          // workflow_dispatch runs on a ref's head; the workflow_run answer counts only if its head_sha is ours.
          await this.github.dispatchWorkflow(view.repo, view.installation_id, view.branch ?? view.commit_sha, {
            changeset_id: view.id,
            commit_sha: view.commit_sha,
          });
          return null;
        });
      } else if (r.executor === "e2b") {
        await this.started(r.id, async () => {
          if (!this.config.callbackSecret || !this.config.publicUrl) {
            throw new Error("E2B needs VERIFICATION_CALLBACK_SECRET and VERIFICATION_PUBLIC_URL to report back");
          }
          return this.e2b.start({
            changesetId: view.id,
            resultId: r.id,
            repo: view.repo,
            branch: view.branch,
            commitSha: view.commit_sha,
            tier: r.tier,
            callbackUrl: `${this.config.publicUrl}/webhook/callback/${r.id}`,
            callbackSecret: await callbackSecretFor(this.config.callbackSecret, r.id),
          });
        });
      }
    }
  }

  private async started(resultId: string, start: () => Promise<string | null>): Promise<void> {
    try {
      const externalId = await start();
      await callJson(this.db, "coord.record_dispatch", [resultId, externalId, null]);
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      this.log.warn("verification: executor did not start", { result_id: resultId, error: message });
      await callJson(this.db, "coord.record_dispatch", [resultId, null, `executor did not start: ${message}`]);
    }
  }

  /** The changeset, or null when there is none with this id. */
  async status(id: string): Promise<ChangesetView | null> {
    return (await callOutcome<ChangesetView>(this.db, "coord.get_changeset", [id])).result ?? null;
  }

  /** Brings every changeset's check run up to date; concurrent calls coalesce into one more pass. */
  syncCheckRuns(): Promise<void> {
    if (!this.github.configured) return Promise.resolve();
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          const ids = await callJson<string[]>(this.db, "coord.unsynced_changesets", [100]);
          for (const id of ids) await this.syncCheckRun(id);
        } while (this.syncAgain);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async syncCheckRun(id: string): Promise<void> {
    const view = await this.status(id);
    if (!view) return;
    const body = checkRunBody(view, this.config.checkName);
    try {
      let checkId = view.check_run_id;
      if (checkId === null) {
        if (!(await callJson<{ create: boolean }>(this.db, "coord.claim_check_run", [id])).create) return;
        checkId = await this.github.createCheckRun(view.repo, view.installation_id, body);
      } else {
        await this.github.updateCheckRun(view.repo, view.installation_id, checkId, body);
      }
      await callJson(this.db, "coord.record_check_run", [id, checkId, view.version]);
    } catch (err) {
      // Left unsynced: the next result, webhook or notification retries it.
      this.log.warn("verification: check run not updated", { changeset_id: id, error: (err as Error).message });
    }
  }
}

/**
 * The aggregated check run of a commit: tier, reasons, fencing findings (which file, which token), per-tier state;
 * Approve/Reject while tier 4 waits.
 */
export function checkRunBody(view: ChangesetView, name: string): CheckRunBody {
  const matches = (view.decision.matches ?? []) as Array<{
    policy: string;
    min_tier: number;
    count: number;
    files: string[];
  }>;
  const trust = view.decision.arithmetic as string | undefined;
  const lines = [
    `**Tier ${view.tier} (${TIER_NAMES[view.tier]})** — state: ${view.state}`,
    "",
    ...matches.map(
      (m) =>
        `- policy \`${m.policy}\` (tier ${m.min_tier}) matched ${m.count} file(s): ${m.files
          .slice(0, 5)
          .map((f) => `\`${f}\``)
          .join(", ")}`,
    ),
    ...(trust ? ["", `Trust: ${trust}`] : []),
    ...fencingLines(view.fencing),
    "",
    ...view.results.map(
      (r) =>
        `- tier ${r.tier} ${TIER_NAMES[r.tier]} via ${r.executor}: **${r.status}**${r.summary ? ` — ${r.summary}` : ""}`,
    ),
  ];
  const summary = lines.join("\n").slice(0, 65_000);
  const fenced = view.fencing?.status === "lock_lost" || view.fencing?.status === "invalid";
  const title = `Tier ${view.tier}: ${view.state}${fenced ? ` (fencing: ${view.fencing!.status})` : ""}`;
  const base: CheckRunBody = {
    name,
    head_sha: view.commit_sha,
    external_id: view.id,
    status: "in_progress",
    output: { title, summary },
  };
  if (view.state === "verified") return { ...base, status: "completed", conclusion: "success" };
  if (view.state === "failed" || view.state === "rejected")
    return { ...base, status: "completed", conclusion: "failure" };
  if (view.results.some((r) => r.status === "awaiting_approval")) {
    return {
      ...base,
      actions: [
        { label: "Approve", description: "Approve this tier-4 change", identifier: "approve" },
        { label: "Reject", description: "Reject this tier-4 change", identifier: "reject" },
      ],
    };
  }
  return base;
}
