/**
 * The one secret rule set (functions-src/util/secrets.ts): the same samples through the TypeScript redactor, the
 * tier-0 static check and SQL `coord.redact` on both databases; near-misses must pass untouched everywhere; and
 * secretlint itself (the maintained source of the token formats, a dev dependency) must agree that the samples are
 * secrets. The samples are made here in each format secretlint documents, so no live credential is in the repository.
 */
import { readFileSync } from "node:fs";
import { lintSource } from "@secretlint/core";
import { creator as recommended } from "@secretlint/secretlint-rule-preset-recommend";
import { describe, expect, it } from "vitest";
import { callJson } from "../functions-src/db/port.ts";
import { findSecret, redactSecrets, SECRET_RULES } from "../functions-src/util/secrets.ts";
import { runStaticChecks } from "../functions-src/verification/static.ts";
import { REDACT_SQL_PATH, redactSql } from "../scripts/db/redact-sql.ts";
import { forEachDatabase } from "./helpers.ts";

/** Deterministic "random" characters from an alphabet, so samples look like real tokens but are made up. */
function chars(n: number, alphabet = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", seed = n): string {
  let s = seed * 2654435761;
  let out = "";
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out += alphabet[s % alphabet.length];
  }
  return out;
}
const HEX = "0123456789abcdef";
const LETTERS = "AbCdEfGhIjKlMnOpQrStUvWxYz";

/** [name, text before, the secret that must disappear, text after (default " (seen in CI)")]. */
const SAMPLES: Array<[string, string, string, string?]> = [
  ["github ghp", "export GH_TOKEN=", `ghp_${chars(36)}`],
  ["github gho", "oauth token ", `gho_${chars(36, undefined, 7)}`],
  ["github ghs", "installation token: ", `ghs_${chars(36, undefined, 9)}`],
  ["github fine-grained", "token ", `github_pat_${chars(22, undefined, 3)}_${chars(59, undefined, 4)}`],
  ["gitlab", "CI uses ", `glpat-${chars(20)}`],
  ["aws access key id", "aws_access_key_id = ", "AKIA2OGYBAH6STMMNXNN"],
  ["slack bot", "SLACK=", `xoxb-1234567890123-1234567890123-${chars(24)}`],
  ["slack webhook", "post to ", `https://hooks.slack.com/services/T0123ABCD/B0123ABCD/${chars(24)}`],
  ["npm", "//registry.npmjs.org/:_authToken=", `npm_${chars(36)}`],
  ["stripe", "stripe key ", `sk_live_${chars(24)}`],
  ["stripe restricted", "rk ", `rk_test_${chars(30)}`],
  [
    "openai",
    "OPENAI_API_KEY=",
    `sk-proj-${chars(58, "AbCdEf0123456789_-")}T3BlbkFJ${chars(58, "AbCdEf0123456789_-", 5)}`,
  ],
  ["openai legacy", "key ", `sk-${chars(20)}T3BlbkFJ${chars(20, undefined, 2)}`],
  ["anthropic", "ANTHROPIC_API_KEY=", `sk-ant-api03-${chars(93, "AbCdEf0123456789_-")}AA`],
  ["groq", "GROQ_API_KEY=", `gsk_${chars(52)}`],
  ["huggingface", "HF_TOKEN=", `hf_${chars(34, LETTERS)}`],
  ["linear", "LINEAR=", `lin_api_${chars(40)}`],
  ["notion", "NOTION=", `ntn_${chars(11, "0123456789")}${chars(35)}`],
  ["sendgrid", "SENDGRID_API_KEY=", `SG.${chars(22)}.${chars(43)}`],
  ["shopify", "token ", `shpat_${chars(32, HEX)}`],
  ["grafana service account", "GRAFANA=", `glsa_${chars(32)}_${chars(8, HEX)}`],
  ["vault", "VAULT_TOKEN=", `hvs.${chars(94)}`],
  ["databricks", "DATABRICKS_TOKEN=", `dapi${chars(32, HEX)}`],
  ["docker", "DOCKER=", `dckr_pat_${chars(27)}`],
  ["figma", "FIGMA=", `figd_${chars(40)}`],
  [
    "private key",
    "key file:\n",
    `-----BEGIN RSA PRIVATE KEY-----\n${chars(64)}\n${chars(64, undefined, 3)}\n-----END RSA PRIVATE KEY-----`,
  ],
  [
    "private key, unterminated",
    "pasted: ",
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${chars(70)}\n${chars(70, undefined, 8)}`,
  ],
  ["postgres url", "DATABASE_URL=postgres://app:", "S3cr3tPassw0rd", "@db.internal:5432/app"],
  ["basic auth url", "clone https://deploy:", "tok3nValue99", "@git.example.com/app.git"],
  ["google api key", "maps key ", `AIza${chars(35)}`],
  ["jwt", "cookie ", `eyJhbGciOiJIUzI1NiJ9.${chars(40)}.${chars(43, undefined, 11)}`],
  ["bearer", "Authorization: Bearer ", chars(40, undefined, 12)],
  ["assignment", 'password = "', "correct-horse-battery"],
  ["assignment", "api_key: ", chars(32, undefined, 13)],
  ["aws secret", "aws_secret_access_key = ", `${chars(36)}/Ab9`],
];

/** Text that resembles a secret but is not one: it must come back unchanged. */
const NEAR_MISSES = [
  "ghp_ is the prefix of classic GitHub tokens",
  `ghp_${chars(20)} is too short to be a token`,
  "AKIA is how AWS access key ids start",
  "the sk-learn package and scikit-learn docs",
  "sk_live_ keys are Stripe's production keys",
  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
  "-----BEGIN CERTIFICATE-----",
  "eyJ is how a base64 JSON object starts",
  "the password field must be at least 12 characters",
  "password: see the vault",
  "postgres://localhost:5432/app has no password",
  "https://example.com:8443/path and http://[::1]:8787/health",
  "token limit reached; raise budget_tokens",
  "AIzaSy is the start of a Google key",
  "xoxb tokens belong to Slack bots",
  "the bearer of bad news",
  "commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b fixed src/auth.ts",
  "hf_transfer speeds up downloads",
  "npm_config_cache=/tmp/npm",
  "SG.1 is the first section",
];

/** How many samples secretlint 10.2 itself flags (measured); formats it lacks are the project's additions. */
const MIN_SECRETLINT_AGREEMENT = 15;

async function secretlintFlags(text: string): Promise<boolean> {
  const r = await lintSource({
    source: { filePath: "/sample.txt", content: text, contentType: "text" },
    options: { config: { rules: [{ id: recommended.meta.id, rule: recommended }] } },
  });
  return r.messages.length > 0;
}

describe("secret rules (TypeScript)", () => {
  it("every rule names its source and compiles", () => {
    for (const r of SECRET_RULES) {
      expect(r.id).toMatch(/^(@secretlint\/secretlint-rule-[a-z0-9-]+|project:[a-z0-9-]+)$/);
      expect(r.keywords.length).toBeGreaterThan(0);
      expect(() => new RegExp(r.pattern)).not.toThrow();
    }
  });

  it.each(SAMPLES)("redacts and flags a %s", (_name, prefix, secret, after = " (seen in CI)") => {
    const text = `${prefix}${secret}${after}`;
    const redacted = redactSecrets(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain("[REDACTED]");
    expect(redacted.startsWith(prefix.split(/[:=]/)[0]!.slice(0, 6))).toBe(true);
    expect(findSecret(text)).not.toBeNull();
    const r = runStaticChecks([{ path: "notes.txt", status: "added", content: text }]);
    expect(r.details.findings.map((f) => f.check)).toContain("secret");
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it.each(NEAR_MISSES)("leaves a near-miss untouched: %s", (text) => {
    expect(redactSecrets(text)).toBe(text);
    expect(findSecret(text)?.id ?? null).toBeNull();
  });

  it("agrees with secretlint: what secretlint flags among the samples, the rule set redacts", async () => {
    const flagged: string[] = [];
    for (const [name, prefix, secret, after = ""] of SAMPLES) {
      const text = `${prefix}${secret}${after}\n`;
      if (await secretlintFlags(text)) {
        flagged.push(name);
        expect(redactSecrets(text), name).not.toContain(secret);
      }
    }
    // secretlint's rules cover most formats here; the project rules (JWT, Bearer, assignments, …) are beyond it.
    console.log(`secretlint flags ${flagged.length} of ${SAMPLES.length} samples: ${flagged.join(", ")}`);
    expect(flagged.length).toBeGreaterThanOrEqual(MIN_SECRETLINT_AGREEMENT);
    for (const text of NEAR_MISSES) expect(await secretlintFlags(text), text).toBe(false);
  });

  it("the SQL redactor is generated from the rule set (npx tsx scripts/db/redact-sql.ts --write)", () => {
    expect(readFileSync(REDACT_SQL_PATH, "utf8")).toBe(redactSql());
  });
});

forEachDatabase("secret rules (SQL coord.redact)", (get) => {
  const redact = async (text: string) =>
    (await get().db.query<{ r: string }>("select coord.redact($1) as r", [text]))[0]!.r;

  it("redacts every sample exactly as the TypeScript redactor does", async () => {
    for (const [name, prefix, secret, after = " (seen in CI)"] of SAMPLES) {
      const text = `${prefix}${secret}${after}`;
      const sql = await redact(text);
      expect(sql, name).not.toContain(secret);
      expect(sql, name).toBe(redactSecrets(text));
    }
  });

  it("leaves every near-miss untouched", async () => {
    for (const text of NEAR_MISSES) expect(await redact(text)).toBe(text);
  });

  it("keeps secrets out of stored memories", async () => {
    const [, prefix, secret] = SAMPLES.find(([n]) => n === "stripe")!;
    const r = await callJson<{ id: number; redacted: boolean }>(get().db, "coord.remember", [
      "secret-writer",
      null,
      { summary: `deploy uses ${prefix}${secret}`, details: `and ${SAMPLES[0]![2]}`, tags: ["deploy"] },
    ]);
    expect(r.redacted).toBe(true);
    const rows = await get().db.query<{ t: string }>(
      "select row_to_json(m)::text as t from coord.memories m where id = $1",
      [r.id],
    );
    expect(rows[0]!.t).not.toContain(secret);
    expect(rows[0]!.t).not.toContain(SAMPLES[0]![2]);
  });
});
