import type { VerificationConfig } from "./config.ts";

/** A GitHub API answer other than the documented success: the status and GitHub's message (never our token). */
export class GitHubError extends Error {
  override name = "GitHubError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/**
 * GitHub issues App keys as PKCS#1 ("BEGIN RSA PRIVATE KEY"); Web Crypto imports only PKCS#8. Wrapping the PKCS#1
 * bytes in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, the key as an OCTET STRING) converts it.
 */
export function pemToPkcs8(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  if (!pem.includes("BEGIN RSA PRIVATE KEY")) return der;
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
  const octet = [0x04, ...derLength(der.length)];
  const inner = [0x02, 0x01, 0x00, ...algorithm, ...octet];
  return new Uint8Array([0x30, ...derLength(inner.length + der.length), ...inner, ...der]);
}

/** An RS256 JWT that authenticates as the GitHub App for 9 minutes (iat back-dated 60 s for clock drift). */
export async function appJwt(
  appId: string,
  privateKeyPem: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "pkcs8",
    pemToPkcs8(privateKeyPem) as BufferSource,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const header = b64url(enc.encode(JSON.stringify({ alg: "RS256", typ: "JWT" })));
  const claims = b64url(enc.encode(JSON.stringify({ iat: nowSeconds - 60, exp: nowSeconds + 540, iss: appId })));
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, enc.encode(`${header}.${claims}`)),
  );
  return `${header}.${claims}.${b64url(signature)}`;
}

export interface CheckRunBody {
  name?: string;
  head_sha?: string;
  status: "queued" | "in_progress" | "completed";
  conclusion?: "success" | "failure" | "action_required" | "cancelled" | "neutral";
  details_url?: string;
  external_id?: string;
  output: { title: string; summary: string; text?: string };
  actions?: Array<{ label: string; description: string; identifier: string }>;
}

/**
 * The REST calls the gateway makes, authenticated with a token (GITHUB_TOKEN) or as the GitHub App (JWT → installation
 * token, cached until a minute before it expires). The base URL is configurable: tests run a local stand-in.
 */
export class GitHubClient {
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  constructor(
    private readonly config: VerificationConfig,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** Whether any credential is configured. */
  get configured(): boolean {
    return Boolean(this.config.githubToken || this.config.githubApp);
  }

  private async call(method: string, path: string, auth: string, body?: unknown): Promise<Response> {
    const res = await this.fetchImpl(`${this.config.githubApiUrl}${path}`, {
      method,
      headers: {
        Accept: "application/vnd.github+json",
        Authorization: auth,
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "agent-coordinator-verification",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        /* not JSON */
      }
      throw new GitHubError(res.status, `GitHub ${method} ${path.split("?")[0]} answered ${res.status}: ${message}`);
    }
    return res;
  }

  /** The Authorization header for calls on a repository. */
  private async authFor(repo: string, installationId?: number | null): Promise<string> {
    if (this.config.githubToken) return `Bearer ${this.config.githubToken}`;
    const app = this.config.githubApp;
    if (!app)
      throw new GitHubError(
        0,
        "GitHub is not configured: set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY",
      );
    const cacheKey = installationId ? `i:${installationId}` : `r:${repo}`;
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.expires > Date.now() + 60_000) return `Bearer ${cached.token}`;
    const jwt = `Bearer ${await appJwt(app.appId, app.privateKey)}`;
    let id = installationId;
    if (!id) id = ((await (await this.call("GET", `/repos/${repo}/installation`, jwt)).json()) as { id: number }).id;
    const t = (await (await this.call("POST", `/app/installations/${id}/access_tokens`, jwt)).json()) as {
      token: string;
      expires_at: string;
    };
    this.tokens.set(cacheKey, { token: t.token, expires: Date.parse(t.expires_at) });
    return `Bearer ${t.token}`;
  }

  /** POST /repos/{repo}/actions/workflows/{workflow}/dispatches → 204. */
  async dispatchWorkflow(
    repo: string,
    installationId: number | null,
    ref: string,
    inputs: Record<string, string>,
  ): Promise<void> {
    await this.call(
      "POST",
      `/repos/${repo}/actions/workflows/${encodeURIComponent(this.config.workflow)}/dispatches`,
      await this.authFor(repo, installationId),
      { ref, inputs },
    );
  }

  /** POST /repos/{repo}/check-runs → the new check run's id. */
  async createCheckRun(repo: string, installationId: number | null, body: CheckRunBody): Promise<number> {
    const res = await this.call("POST", `/repos/${repo}/check-runs`, await this.authFor(repo, installationId), body);
    return ((await res.json()) as { id: number }).id;
  }

  /** PATCH /repos/{repo}/check-runs/{id}. */
  async updateCheckRun(repo: string, installationId: number | null, id: number, body: CheckRunBody): Promise<void> {
    await this.call("PATCH", `/repos/${repo}/check-runs/${id}`, await this.authFor(repo, installationId), body);
  }

  /**
   * GET /repos/{repo}/pulls/{n}/commits, every page up to GitHub's own 250-commit limit: each commit's id, message and
   * committer date (when the commit was made, by the committer's clock; a rebase changes it, the author date not).
   */
  async pullRequestCommits(
    repo: string,
    installationId: number | null,
    pr: number,
  ): Promise<Array<{ sha: string; message: string; committedAt: string | null }>> {
    const auth = await this.authFor(repo, installationId);
    const out: Array<{ sha: string; message: string; committedAt: string | null }> = [];
    for (let page = 1; page <= 3; page++) {
      const batch = (await (
        await this.call("GET", `/repos/${repo}/pulls/${pr}/commits?per_page=100&page=${page}`, auth)
      ).json()) as Array<{ sha?: string; commit?: { message?: string; committer?: { date?: string } | null } }>;
      if (!Array.isArray(batch))
        throw new GitHubError(200, `GitHub GET /repos/${repo}/pulls/${pr}/commits: not a list`);
      for (const c of batch) {
        out.push({
          sha: String(c.sha ?? ""),
          message: String(c.commit?.message ?? ""),
          committedAt: c.commit?.committer?.date ?? null,
        });
      }
      if (batch.length < 100) break;
    }
    return out;
  }

  /** GET /repos/{repo}/pulls/{n}/files, every page up to GitHub's own 3000-file limit. */
  async pullRequestFiles(
    repo: string,
    installationId: number | null,
    pr: number,
  ): Promise<Array<{ filename: string; status: string; previous_filename?: string }>> {
    const auth = await this.authFor(repo, installationId);
    const out: Array<{ filename: string; status: string; previous_filename?: string }> = [];
    for (let page = 1; page <= 30; page++) {
      const batch = (await (
        await this.call("GET", `/repos/${repo}/pulls/${pr}/files?per_page=100&page=${page}`, auth)
      ).json()) as typeof out;
      out.push(...batch);
      if (batch.length < 100) break;
    }
    return out;
  }
}
