import { ConfigError, type Env, intVar, list, stringVar } from "../util/env.ts";

/** GitHub App credentials: the app id and its private key (PEM, PKCS#1 as GitHub issues it, or PKCS#8). */
export interface GitHubAppCredentials {
  appId: string;
  privateKey: string;
}

/** What the verification gateway reads from its environment. Secrets stay in this object, never in logs or events. */
export interface VerificationConfig {
  /** GITHUB_WEBHOOK_SECRET, comma-separated: the first signs nothing, all verify (rotation: add new, drop old later). */
  webhookSecrets: string[];
  /** VERIFICATION_CALLBACK_SECRET (`whsec_…` base64, Standard Webhooks): master key of runner callbacks. */
  callbackSecret: string | null;
  /** GITHUB_API_URL, default https://api.github.com (tests point it at a local server). */
  githubApiUrl: string;
  /** GITHUB_TOKEN: act with a token instead of as the GitHub App. */
  githubToken: string | null;
  /** GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY. */
  githubApp: GitHubAppCredentials | null;
  /** VERIFICATION_WORKFLOW: the workflow file dispatched for tier 1 (default verify.yml). */
  workflow: string;
  /** VERIFICATION_CHECK_NAME: the name of the aggregated check run. */
  checkName: string;
  /** E2B_API_KEY: when set, tier 2 runs in an E2B sandbox instead of the work queue. */
  e2bApiKey: string | null;
  /** E2B_API_URL, default https://api.e2b.dev. */
  e2bApiUrl: string;
  /** E2B_TEMPLATE: the sandbox template whose start command runs the verification and calls back. */
  e2bTemplate: string;
  /** VERIFICATION_PUBLIC_URL: this app's public base URL, for callback URLs handed to sandboxes. */
  publicUrl: string | null;
  /** VERIFICATION_REPOS: comma-separated owner/name allow-list; empty accepts any repository. */
  repos: string[] | null;
  /**
   * VERIFICATION_CLOCK_SKEW_SECONDS (default 60, 0–3600): how far a committer's clock may be from the database's when
   * fenced commits are judged. A commit made within this long after its lock was lost passes as held.
   */
  clockSkewSeconds: number;
}

/** Parses the gateway's configuration from an environment record (process.env, Deno.env.toObject(), or a test's own). */
export function loadVerificationConfig(env: Env): VerificationConfig {
  const appId = env.GITHUB_APP_ID?.trim();
  // Keys pasted into one-line environments carry literal "\n".
  const privateKey = env.GITHUB_APP_PRIVATE_KEY?.replaceAll("\\n", "\n").trim();
  if ((appId && !privateKey) || (!appId && privateKey)) {
    throw new ConfigError(
      "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY go together: set both to act as the GitHub App, or neither",
    );
  }
  const callbackSecret = stringVar(env, "VERIFICATION_CALLBACK_SECRET");
  if (callbackSecret && !/^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$/.test(callbackSecret)) {
    throw new ConfigError(
      "VERIFICATION_CALLBACK_SECRET must be base64 (optionally prefixed whsec_), at least 12 bytes",
    );
  }
  const repos = list(env.VERIFICATION_REPOS);
  for (const r of repos)
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(r))
      throw new ConfigError(`VERIFICATION_REPOS entry ${r} is not owner/name`);
  return {
    webhookSecrets: list(env.GITHUB_WEBHOOK_SECRET),
    callbackSecret,
    githubApiUrl: (env.GITHUB_API_URL?.trim() || "https://api.github.com").replace(/\/+$/, ""),
    githubToken: stringVar(env, "GITHUB_TOKEN"),
    githubApp: appId && privateKey ? { appId, privateKey } : null,
    workflow: env.VERIFICATION_WORKFLOW?.trim() || "verify.yml",
    checkName: env.VERIFICATION_CHECK_NAME?.trim() || "coordinator/verification",
    e2bApiKey: env.E2B_API_KEY?.trim() || null,
    e2bApiUrl: (env.E2B_API_URL?.trim() || "https://api.e2b.dev").replace(/\/+$/, ""),
    e2bTemplate: env.E2B_TEMPLATE?.trim() || "coordinator-verify",
    publicUrl: env.VERIFICATION_PUBLIC_URL?.trim().replace(/\/+$/, "") || null,
    repos: repos.length ? repos : null,
    clockSkewSeconds: intVar(env, "VERIFICATION_CLOCK_SKEW_SECONDS", 60, 0, 3600),
  };
}
