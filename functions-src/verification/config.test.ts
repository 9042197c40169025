import { describe, expect, it } from "vitest";
import { ConfigError } from "../config.ts";
import { loadVerificationConfig } from "./config.ts";

describe("verification config", () => {
  it("defaults to nothing configured, with GitHub's and E2B's public URLs", () => {
    expect(loadVerificationConfig({})).toMatchObject({
      webhookSecrets: [],
      callbackSecret: null,
      githubToken: null,
      githubApp: null,
      e2bApiKey: null,
      repos: null,
      githubApiUrl: "https://api.github.com",
      e2bApiUrl: "https://api.e2b.dev",
      workflow: "verify.yml",
      checkName: "coordinator/verification",
      clockSkewSeconds: 60,
    });
  });

  it("reads rotated webhook secrets, an App key with escaped newlines, and an allow-list", () => {
    const c = loadVerificationConfig({
      GITHUB_WEBHOOK_SECRET: "new-secret, old-secret",
      GITHUB_APP_ID: "42",
      GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\\nAAA\\n-----END RSA PRIVATE KEY-----",
      VERIFICATION_REPOS: "acme/app,acme/web",
      GITHUB_API_URL: "http://127.0.0.1:9/",
    });
    expect(c.webhookSecrets).toEqual(["new-secret", "old-secret"]);
    expect(c.githubApp).toEqual({
      appId: "42",
      privateKey: "-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----",
    });
    expect(c.repos).toEqual(["acme/app", "acme/web"]);
    expect(c.githubApiUrl).toBe("http://127.0.0.1:9");
  });

  it("refuses half an App, a malformed callback secret, and a malformed repository", () => {
    expect(() => loadVerificationConfig({ GITHUB_APP_ID: "42" })).toThrow(ConfigError);
    expect(() => loadVerificationConfig({ GITHUB_APP_PRIVATE_KEY: "k" })).toThrow(/go together/);
    expect(() => loadVerificationConfig({ VERIFICATION_CALLBACK_SECRET: "short!" })).toThrow(/base64/);
    expect(() => loadVerificationConfig({ VERIFICATION_REPOS: "no-slash" })).toThrow(/owner\/name/);
    expect(loadVerificationConfig({ VERIFICATION_CLOCK_SKEW_SECONDS: "0" }).clockSkewSeconds).toBe(0);
    expect(() => loadVerificationConfig({ VERIFICATION_CLOCK_SKEW_SECONDS: "-1" })).toThrow(/0 to 3600/);
    expect(() => loadVerificationConfig({ VERIFICATION_CLOCK_SKEW_SECONDS: "1h" })).toThrow(/CLOCK_SKEW/);
  });
});
