import { Hono, type Context } from "hono";
import { z } from "zod";
import { callJson } from "../db/port.ts";
import { callOutcome, refusalError } from "../ops/call.ts";
import { verificationRefusals } from "./refusals.ts";
import type { ChangesetView } from "./schemas.ts";
import { ApiError } from "../http/errors.ts";
import { checkJson } from "../http/input-gate.ts";
import type { BodyBudget } from "../http/unverified-body.ts";
import { jsonSchema } from "../ops/json-schema.ts";
import { errorResponse, type PathItem } from "../ops/openapi.ts";
import type { AppEnv } from "../types.ts";
import type { CommitInput } from "./fencing.ts";
import type { VerificationService } from "./service.ts";
import { hasGitHubSignature, verifyCallback, verifyGitHubSignature } from "./signatures.ts";
import type { StaticInput } from "./static.ts";

/** Most files one change may carry; GitHub itself lists at most 3000 for a pull request. */
export const MAX_FILES = 10_000;

/** GitHub caps webhook payloads at 25 MB; a large push must not be refused by the app's general 1 MiB cap. */
export const GITHUB_MAX_BODY_BYTES = 25 * 1024 * 1024;
const SHA = /^[0-9a-f]{40}$/;

/**
 * Runs the unauthenticated part of a webhook (reading the body, checking its signature). A refusal there closes the
 * connection after the answer: the rest of an unverified body is not worth reading (the Node server would otherwise
 * read and discard what the sender is still sending).
 */
async function refuseClosing<T>(c: Context<AppEnv>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    c.header("Connection", "close");
    throw err;
  }
}

/** Runs work after the answer: on the edge through waitUntil, elsewhere as a tracked, logged promise. */
export type Defer = (c: Context<AppEnv>, work: () => Promise<void>) => void;

interface GitHubPayload {
  action?: string;
  installation?: { id: number };
  repository?: { full_name: string };
  sender?: { login: string };
  [k: string]: unknown;
}

const CallbackBody = z.object({
  passed: z.boolean(),
  commit_sha: z.string().regex(SHA, "a 40-character lowercase hex commit sha"),
  summary: z.string().max(2000).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const header = (name: string, description: string, schema: Record<string, unknown> = { type: "string" }) => ({
  name,
  in: "header",
  required: true,
  description,
  schema,
});
const json = (schema: Record<string, unknown>, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const Status = (values: string[], extra: Record<string, unknown> = {}) => ({
  type: "object",
  required: ["status"],
  properties: { status: { type: "string", enum: values }, ...extra },
});

let callbackBodySchema: ReturnType<typeof jsonSchema> | undefined;

/** The OpenAPI description of the two webhook routes: signed by their senders, not by an API key. */
export const WEBHOOK_DOCS: Record<string, PathItem> = {
  "/webhook/github": {
    post: {
      operationId: "github_webhook",
      summary: "GitHub App webhook",
      description:
        "Deliveries of the GitHub App (push, pull_request, check_run), verified on the raw body under " +
        "GITHUB_WEBHOOK_SECRET, recorded once per delivery id, processed after the answer. Bodies up to 25 MB.",
      tags: ["verification"],
      security: [],
      parameters: [
        header("X-Hub-Signature-256", "sha256=HMAC of the raw body under the webhook secret"),
        header("X-GitHub-Event", "push, pull_request, check_run, ping, …"),
        header("X-GitHub-Delivery", "The delivery id (redeliveries repeat it)"),
      ],
      requestBody: {
        required: true,
        content: { "application/json": { schema: { type: "object", description: "GitHub's event payload" } } },
      },
      responses: {
        "200": json(
          Status(["pong", "duplicate"], { state: { type: "string" } }),
          "A ping, or a delivery id already received",
        ),
        "202": json(Status(["accepted"]), "Verified and recorded; processed after the answer"),
        "400": errorResponse(400),
        "401": errorResponse(401),
        "413": errorResponse(413),
        "500": errorResponse(500),
        "503": errorResponse(503),
      },
    },
  },
  "/webhook/callback/{resultId}": {
    post: {
      operationId: "verification_callback",
      summary: "Verification runner callback",
      description:
        "A sandbox or runner reports one verification result, signed (Standard Webhooks) with the key derived for " +
        "that result from VERIFICATION_CALLBACK_SECRET, within 5 minutes of its timestamp.",
      tags: ["verification"],
      security: [],
      parameters: [
        { name: "resultId", in: "path", required: true, schema: { type: "string", format: "uuid" } },
        header("webhook-id", "The message id (a retry repeats it)"),
        header("webhook-timestamp", "Unix seconds", { type: "string", pattern: "^[0-9]+$" }),
        header("webhook-signature", "v1,<base64 HMAC-SHA256> (space-separated when several)"),
      ],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            // Converted when the OpenAPI document is first built, not when this module loads (every edge start).
            get schema() {
              callbackBodySchema ??= jsonSchema(CallbackBody, "input");
              return callbackBodySchema;
            },
          },
        },
      },
      responses: {
        "200": json(
          Status(["recorded", "duplicate"], {
            changeset_id: { type: "string" },
            state: { type: "string", description: "The changeset's state after the result" },
          }),
          "Recorded (or a message id already received)",
        ),
        "400": errorResponse(400),
        "401": errorResponse(401),
        "403": errorResponse(403),
        "404": errorResponse(404),
        "413": errorResponse(413),
        "500": errorResponse(500),
        "503": errorResponse(503),
      },
    },
  },
};

function pushFiles(payload: Record<string, any>): StaticInput[] {
  // A push lists per-commit changes; the last status of each path wins (added then removed is removed).
  const byPath = new Map<string, StaticInput>();
  for (const commit of (payload.commits ?? []) as Array<Record<string, string[] | undefined>>) {
    for (const [key, status] of [
      ["added", "added"],
      ["modified", "modified"],
      ["removed", "removed"],
    ] as const) {
      for (const path of commit[key] ?? []) byPath.set(path, { path, status });
    }
  }
  return [...byPath.values()];
}

/** A push's commits as fencing reads them: GitHub lists each with its id, message and timestamp. */
function pushCommits(payload: Record<string, any>): CommitInput[] {
  const commits = Array.isArray(payload.commits) ? (payload.commits as Array<Record<string, unknown>>) : [];
  return commits.map((c) => ({
    sha: String(c.id ?? ""),
    message: typeof c.message === "string" ? c.message : "",
    committedAt: typeof c.timestamp === "string" ? c.timestamp : null,
  }));
}

function revertedCommit(message: string | undefined): string | null {
  return /This reverts commit ([0-9a-f]{40})/.exec(message ?? "")?.[1] ?? null;
}

/** Handles one verified GitHub event. Throws to mark the delivery failed (GitHub's redelivery then retries it). */
async function processGitHubEvent(svc: VerificationService, event: string, p: GitHubPayload): Promise<void> {
  const repo = p.repository?.full_name;
  if (!repo) return;
  if (svc.config.repos && !svc.config.repos.includes(repo)) return; // not ours: stored, ignored
  const installationId = p.installation?.id ?? null;
  const any = p as Record<string, any>;
  switch (event) {
    case "push": {
      if (any.deleted || !SHA.test(any.after ?? "") || !String(any.ref ?? "").startsWith("refs/heads/")) return;
      const files = pushFiles(any);
      await svc.submit({
        source: "github",
        repo,
        branch: String(any.ref).slice("refs/heads/".length),
        commitSha: any.after,
        agentId: `github:${any.pusher?.name ?? p.sender?.login ?? "unknown"}`.slice(0, 128),
        files,
        commits: pushCommits(any),
        installationId,
        revertsCommit: revertedCommit(any.head_commit?.message),
      });
      return;
    }
    case "pull_request": {
      if (!["opened", "synchronize", "reopened"].includes(p.action ?? "")) return;
      const pr = any.pull_request;
      if (!svc.github.configured) {
        // Routing a pull request without its files would under-verify it: fail, so a redelivery can retry once configured.
        throw new Error(
          "pull request files cannot be listed: GitHub credentials (GITHUB_TOKEN or the App) are not configured",
        );
      }
      const listed = await svc.github.pullRequestFiles(repo, installationId, any.number);
      const commits = await svc.github.pullRequestCommits(repo, installationId, any.number);
      await svc.submit({
        source: "github",
        repo,
        branch: pr.head.ref,
        commitSha: pr.head.sha,
        agentId: `github:${pr.user?.login ?? p.sender?.login ?? "unknown"}`.slice(0, 128),
        installationId,
        prNumber: any.number,
        commits,
        files: listed.map((f) => ({
          path: f.filename,
          status:
            f.status === "removed"
              ? "removed"
              : f.status === "added"
                ? "added"
                : f.status === "renamed"
                  ? "renamed"
                  : "modified",
          ...(f.previous_filename ? { previous_path: f.previous_filename } : {}),
        })),
      });
      return;
    }
    case "check_run": {
      const run = any.check_run;
      if (run?.name !== svc.config.checkName) return;
      if (p.action === "rerequested") {
        const { result } = await callOutcome<{ reset: number; changeset: ChangesetView }>(
          svc.db,
          "coord.rerun_changeset",
          [repo, run.head_sha],
        );
        // Not ours (no changeset for the commit): nothing to re-run.
        if (result && result.reset > 0) await svc.startExecutors(result.changeset);
      } else if (p.action === "requested_action") {
        const id = any.requested_action?.identifier;
        if (id !== "approve" && id !== "reject") return;
        const cs = await callJson<{ id: string } | null>(svc.db, "coord.find_changeset", [repo, run.head_sha]);
        if (!cs) return;
        // GitHub shows check-run actions only to users with write access to the repository.
        await callJson(svc.db, "coord.review_changeset", [
          cs.id,
          id === "approve",
          `via GitHub check run`,
          `github:${p.sender?.login ?? "unknown"}`,
        ]);
      }
      return;
    }
    case "workflow_run": {
      const run = any.workflow_run;
      if (p.action !== "completed" || !SHA.test(run?.head_sha ?? "")) return;
      if (!String(run.path ?? "").endsWith(`/${svc.config.workflow}`)) return;
      await callJson(svc.db, "coord.record_workflow_run", [
        repo,
        run.head_sha,
        run.id,
        run.conclusion ?? "unknown",
        run.html_url ?? null,
      ]);
      return;
    }
  }
}

/**
 * `POST /webhook/github` and `POST /webhook/callback/:resultId`: unauthenticated by API key, verified by signature
 * on the raw body before it is parsed, stored as deliveries (idempotent), processed after the answer.
 */
export function webhookRoutes(svc: VerificationService, defer: Defer, budget: BodyBudget, callbackMaxBytes: number) {
  const invalidSignature = () =>
    new ApiError(
      401,
      "invalid_signature",
      "X-Hub-Signature-256 does not match the body under any configured webhook secret.",
    );
  return new Hono<AppEnv>()
    .post("/webhook/github", async (c) => {
      if (svc.config.webhookSecrets.length === 0) {
        throw new ApiError(
          503,
          "webhook_not_configured",
          "GITHUB_WEBHOOK_SECRET is not set on the server; webhooks are refused until it is.",
        );
      }
      // No signature, no read: the body of an unsigned request is never held.
      const signature = c.req.header("x-hub-signature-256");
      const raw = await refuseClosing(c, async () => {
        if (!hasGitHubSignature(signature)) throw invalidSignature();
        const body = await budget.read(c.req.raw, GITHUB_MAX_BODY_BYTES);
        try {
          if (!(await verifyGitHubSignature(svc.config.webhookSecrets, body.bytes, signature))) {
            throw invalidSignature();
          }
          return new TextDecoder().decode(body.bytes);
        } finally {
          body.release();
        }
      });
      const event = c.req.header("x-github-event");
      const delivery = c.req.header("x-github-delivery");
      if (!event || !delivery || delivery.length > 200 || !/^[a-z_]{1,64}$/.test(event)) {
        throw new ApiError(
          400,
          "missing_headers",
          "Send X-GitHub-Event and X-GitHub-Delivery (a GitHub App delivery carries both).",
        );
      }
      let payload: GitHubPayload;
      try {
        payload = JSON.parse(raw) as GitHubPayload;
      } catch {
        throw new ApiError(
          400,
          "malformed_json",
          "Webhook body is not JSON; configure the webhook with content type application/json.",
        );
      }
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
        throw new ApiError(400, "malformed_payload", "Webhook body must be a JSON object.");
      }
      // Signed by GitHub, but still text from outside: the same gate as every request (NUL, surrogates, depth).
      checkJson(payload);
      if (event === "ping") return c.json({ status: "pong" }, 200);
      const action = typeof payload.action === "string" ? payload.action.slice(0, 64) : null;
      const r = await callJson<{ process: boolean; state: string }>(svc.db, "coord.receive_webhook", [
        "github",
        delivery,
        event,
        action,
      ]);
      if (!r.process) return c.json({ status: "duplicate", state: r.state }, 200);
      defer(c, async () => {
        try {
          await processGitHubEvent(svc, event, payload);
          await callJson(svc.db, "coord.finish_webhook", ["github", delivery, true, null]);
        } catch (err) {
          svc.log.warn("verification: delivery failed", { delivery, event, error: (err as Error).message });
          await callJson(svc.db, "coord.finish_webhook", ["github", delivery, false, (err as Error).message]);
        }
        await svc.syncCheckRuns();
      });
      return c.json({ status: "accepted" }, 202);
    })
    .post("/webhook/callback/:resultId", async (c) => {
      if (!svc.config.callbackSecret) {
        throw new ApiError(
          503,
          "callback_not_configured",
          "VERIFICATION_CALLBACK_SECRET is not set on the server; callbacks are refused until it is.",
        );
      }
      const resultId = c.req.param("resultId");
      if (!z.uuid().safeParse(resultId).success) throw new ApiError(404, "not_found", "No such verification result.");
      const headers = {
        "webhook-id": c.req.header("webhook-id") ?? "",
        "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
        "webhook-signature": c.req.header("webhook-signature") ?? "",
      };
      const secret = svc.config.callbackSecret;
      const check = await refuseClosing(c, async () => {
        const body = await budget.read(c.req.raw, callbackMaxBytes);
        const raw = new TextDecoder().decode(body.bytes);
        body.release();
        const check = await verifyCallback(secret, resultId, raw, headers);
        if (!check.ok) {
          throw new ApiError(
            401,
            "invalid_signature",
            `Callback refused: ${check.reason}. Sign with the result's key (Standard Webhooks) within 5 minutes.`,
          );
        }
        return check;
      });
      checkJson(check.body);
      const parsed = CallbackBody.safeParse(check.body);
      if (!parsed.success) {
        const field = parsed.error.issues[0]!;
        throw new ApiError(
          400,
          "invalid_input",
          `Invalid callback — ${field.path.join(".") || "(body)"}: ${field.message}`,
          { field: field.path.join(".") },
        );
      }
      const id = headers["webhook-id"].slice(0, 200);
      const r = await callJson<{ process: boolean; state: string }>(svc.db, "coord.receive_webhook", [
        "callback",
        id,
        "result",
        null,
      ]);
      if (!r.process) return c.json({ status: "duplicate", state: r.state }, 200);
      const b = parsed.data;
      const rec = await callOutcome<{ changeset: { id: string; state: string } }>(svc.db, "coord.record_result", [
        resultId,
        b.passed,
        b.commit_sha,
        b.summary ?? (b.passed ? "passed" : "failed"),
        b.details ?? {},
        "callback",
      ]).catch(async (err) => {
        // Marked failed, so the sender's retry of this message id is processed again rather than answered "duplicate".
        await callJson(svc.db, "coord.finish_webhook", ["callback", id, false, "recording failed"]).catch(() => {});
        throw err;
      });
      await callJson(svc.db, "coord.finish_webhook", ["callback", id, !rec.refusal, rec.refusal?.code ?? null]);
      if (rec.refusal) throw refusalError(verificationRefusals, rec.refusal, "coord.record_result");
      defer(c, () => svc.syncCheckRuns());
      const { changeset } = rec.result;
      return c.json({ status: "recorded", changeset_id: changeset.id, state: changeset.state }, 200);
    });
}
