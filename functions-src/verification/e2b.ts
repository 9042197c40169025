import type { VerificationConfig } from "./config.ts";

/** What a sandbox is told: the job, and where and how to report (its own callback key, not the master secret). */
export interface SandboxJob {
  changesetId: string;
  resultId: string;
  repo: string;
  branch: string | null;
  commitSha: string;
  tier: number;
  callbackUrl: string;
  callbackSecret: string;
}

/**
 * Starts E2B sandboxes through E2B's REST API (`POST /sandboxes`, `X-API-Key`). The template's start command runs the
 * verification from its environment variables and reports through the signed callback; the gateway never polls.
 */
export class E2BClient {
  constructor(
    private readonly config: VerificationConfig,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
  ) {}

  get configured(): boolean {
    return Boolean(this.config.e2bApiKey);
  }

  /** Creates the sandbox; resolves to its id. */
  async start(job: SandboxJob): Promise<string> {
    const res = await this.fetchImpl(`${this.config.e2bApiUrl}/sandboxes`, {
      method: "POST",
      headers: {
        "X-API-Key": this.config.e2bApiKey ?? "",
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify({
        templateID: this.config.e2bTemplate,
        timeout: 3600,
        metadata: { changeset_id: job.changesetId, result_id: job.resultId, commit_sha: job.commitSha },
        envVars: {
          VERIFY_REPO: job.repo,
          VERIFY_BRANCH: job.branch ?? "",
          VERIFY_COMMIT_SHA: job.commitSha,
          VERIFY_TIER: String(job.tier),
          VERIFY_RESULT_ID: job.resultId,
          VERIFY_CALLBACK_URL: job.callbackUrl,
          VERIFY_CALLBACK_SECRET: job.callbackSecret,
        },
      }),
    });
    if (res.status !== 201 && res.status !== 200) {
      const text = await res.text().catch(() => "");
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        /* not JSON */
      }
      throw new Error(`E2B POST /sandboxes answered ${res.status}: ${message}`);
    }
    const body = (await res.json()) as { sandboxID?: string };
    if (!body.sandboxID) throw new Error("E2B POST /sandboxes answered without a sandboxID");
    return body.sandboxID;
  }
}
