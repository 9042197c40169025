/**
 * One secret rule set for the whole app: memory redaction (`coord.redact`, in SQL, generated from this list by
 * `scripts/db/redact-sql.ts`) and the verification gateway's tier-0 static check (`verification/static.ts`).
 *
 * Token formats are adapted from secretlint's recommended preset (https://github.com/secretlint/secretlint, MIT,
 * © azu; rule packages `@secretlint/secretlint-rule-*`): their patterns, rewritten in the subset of regular
 * expressions that JavaScript and Postgres (ARE) read alike — `\b` word boundaries (`\y` in Postgres), bounded
 * repetition of at most 255 (Postgres' limit), look-ahead and look-behind with plain character classes instead of
 * `\p{L}`. secretlint also checks checksums and allow-lists; a redactor errs the other way and drops those checks.
 * The licence is in docs/THIRD_PARTY_NOTICES.md. The `project:` rules (Google API keys, JWTs, Bearer headers,
 * credential assignments, passwords in URLs, unterminated PEM keys) keep formats agents paste into notes that
 * secretlint leaves to other tools. `test/secrets.test.ts` runs every rule in both engines on sample secrets and on
 * near-misses that must pass untouched, and checks agreement with secretlint itself on the samples.
 */

export interface SecretRule {
  /** Where the rule comes from: the secretlint rule package, or `project:NAME`. */
  id: string;
  /** What the finding says ("looks like a GitHub token"); never the value. */
  kind: string;
  /**
   * The pattern, in the portable subset (see above). With `keepPrefix`, group 1 is kept (the `password=` of an
   * assignment) and the rest of the match is replaced; every other group is non-capturing.
   */
  pattern: string;
  /**
   * Lower-case strings one of which every match contains (gitleaks calls them keywords): a cheap test that skips
   * the expensive expression for the usual text that holds no secret.
   */
  keywords: string[];
  /** Case-insensitive. */
  ignoreCase?: boolean;
  keepPrefix?: boolean;
}

const SL = "@secretlint/secretlint-rule-";
// Token characters may not touch a match on either side (secretlint writes (?<!\p{L}) and (?![…]) for this).
const B = "\\b";

export const SECRET_RULES: readonly SecretRule[] = [
  // A PEM block, terminated or cut off (pasted halfway): everything from BEGIN to END, or to the end of the base64.
  {
    id: `${SL}privatekey`,
    kind: "private key",
    keywords: ["-----begin"],
    pattern:
      "-----BEGIN[ A-Z]*PRIVATE KEY(?: BLOCK)?-----(?:[^-]*-----END[ A-Z]*PRIVATE KEY(?: BLOCK)?-----|(?:[ \\t\\r\\n\\\\]*[A-Za-z0-9+/=:,]+)*)",
  },
  {
    id: `${SL}aws`,
    kind: "AWS access key id",
    keywords: ["a3t", "akia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "asia"],
    pattern: "\\b(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\\b",
  },
  {
    id: `${SL}aws`,
    kind: "AWS secret access key",
    keywords: ["secret"],
    pattern: `((?:aws_?)?secret_?access_?key["']?[ \\t]*(?::|=>|=)[ \\t]*["']?)[A-Za-z0-9/+=]{40}\\b`,
    ignoreCase: true,
    keepPrefix: true,
  },
  {
    id: `${SL}github`,
    kind: "GitHub token",
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    pattern: `${B}(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,}\\b`,
  },
  {
    id: `${SL}github`,
    kind: "GitHub token",
    keywords: ["github_pat_"],
    pattern: `${B}github_pat_[A-Za-z0-9_]{22,}\\b`,
  },
  {
    id: `${SL}gitlab`,
    kind: "GitLab token",
    keywords: ["glpat-"],
    pattern: `${B}glpat-[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])`,
  },
  {
    id: `${SL}slack`,
    kind: "Slack token",
    keywords: ["xox", "xapp"],
    pattern: "\\b(?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr|xoxe|xoxs)-(?:[0-9]-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40}\\b",
  },
  {
    id: `${SL}slack`,
    kind: "Slack webhook URL",
    keywords: ["hooks.slack.com"],
    pattern: "https://hooks\\.slack\\.com/services/T[a-zA-Z0-9]{1,40}/B[a-zA-Z0-9]{1,40}/[a-zA-Z0-9]{1,40}",
  },
  { id: `${SL}npm`, kind: "npm token", keywords: ["npm_"], pattern: `${B}npm_[A-Za-z0-9_]{36}(?![A-Za-z0-9_])` },
  {
    id: `${SL}npm`,
    kind: "npm token",
    keywords: ["_authtoken="],
    pattern: "(_authToken=)[^\\s$][^\\s]*",
    keepPrefix: true,
  },
  {
    id: `${SL}stripe`,
    kind: "Stripe key",
    keywords: ["_live_", "_test_"],
    pattern: `${B}(?:sk|rk)_(?:live|test)_[a-zA-Z0-9]{24,}(?![a-zA-Z0-9])`,
  },
  {
    id: `${SL}openai`,
    kind: "OpenAI key",
    keywords: ["t3blbkfj"],
    pattern: `${B}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}`,
  },
  // Older OpenAI keys and other `sk-` keys without the T3BlbkFJ marker.
  { id: "project:sk-key", kind: "API key", keywords: ["sk-"], pattern: `${B}sk-[A-Za-z0-9_-]{20,}` },
  {
    id: `${SL}anthropic`,
    kind: "Anthropic key",
    keywords: ["sk-ant-"],
    pattern: `${B}sk-ant-(?:api|admin)0[0-9]-[A-Za-z0-9_-]{80,}(?![A-Za-z0-9_-])`,
  },
  { id: `${SL}groq`, kind: "Groq key", keywords: ["gsk_"], pattern: `${B}gsk_[a-zA-Z0-9]{52}(?![a-zA-Z0-9])` },
  { id: `${SL}huggingface`, kind: "Hugging Face token", keywords: ["hf_"], pattern: `${B}hf_[a-zA-Z]{34}(?![a-zA-Z])` },
  {
    id: `${SL}linear`,
    kind: "Linear key",
    keywords: ["lin_api_"],
    pattern: `${B}lin_api_[a-zA-Z0-9_]{32,}(?![a-zA-Z0-9_])`,
  },
  {
    id: `${SL}notion`,
    kind: "Notion token",
    keywords: ["ntn_"],
    pattern: `${B}ntn_[0-9]{11}[A-Za-z0-9]{35}(?![A-Za-z0-9])`,
  },
  {
    id: `${SL}sendgrid`,
    kind: "SendGrid key",
    keywords: ["sg."],
    pattern: `${B}SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_])`,
  },
  {
    id: `${SL}shopify`,
    kind: "Shopify token",
    keywords: ["shppa_", "shpca_", "shpat_", "shpss_"],
    pattern: `${B}(?:shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64}(?![a-zA-Z0-9])`,
  },
  {
    id: `${SL}grafana`,
    kind: "Grafana token",
    keywords: ["glc_", "glsa_"],
    pattern: `${B}(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?![A-Za-z0-9+/=])`,
  },
  {
    id: `${SL}hashicorp-vault`,
    kind: "Vault token",
    keywords: ["hvs.", "hvb.", "hvr."],
    pattern: `${B}hv[sbr]\\.[A-Za-z0-9_-]{90,}(?![A-Za-z0-9_-])`,
  },
  {
    id: `${SL}vercel`,
    kind: "Vercel token",
    keywords: ["vcp_", "vci_", "vca_", "vcr_", "vck_"],
    pattern: `${B}(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}(?![A-Za-z0-9])`,
  },
  {
    id: `${SL}databricks`,
    kind: "Databricks token",
    keywords: ["dapi"],
    pattern: `${B}dapi[A-Fa-f0-9]{32}(?:-[0-9])?(?![A-Fa-f0-9])`,
  },
  {
    id: `${SL}docker`,
    kind: "Docker token",
    keywords: ["dckr_pat_"],
    pattern: `${B}dckr_pat_[a-zA-Z0-9_-]{27}(?![a-zA-Z0-9_-])`,
  },
  {
    id: `${SL}figma`,
    kind: "Figma token",
    keywords: ["figd_"],
    pattern: `${B}figd_[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])`,
  },
  {
    id: `${SL}cloudflare`,
    kind: "Cloudflare token",
    keywords: ["cfk_", "cfut_", "cfat_"],
    pattern: `${B}(?:cfk|cfut|cfat)_[A-Za-z0-9]{40}[0-9a-f]{8}(?![A-Za-z0-9])`,
  },
  {
    id: `${SL}tailscale`,
    kind: "Tailscale key",
    keywords: ["tskey-"],
    pattern: `${B}tskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}(?![0-9A-Za-z_])`,
  },
  { id: `${SL}1password`, kind: "1Password token", keywords: ["ops_ey"], pattern: `${B}ops_ey[A-Za-z0-9+/=]{100,}` },
  {
    id: `${SL}database-connection-string`,
    kind: "password in a connection string",
    keywords: ["://"],
    pattern: "((?:postgres(?:ql)?|mysqlx?|mongodb(?:\\+srv)?|redis|rediss|amqps?)://[^:/\\s@]{1,}:)[^@/\\s]{1,}(?=@)",
    ignoreCase: true,
    keepPrefix: true,
  },
  {
    id: `${SL}basicauth`,
    kind: "password in a URL",
    keywords: ["://"],
    pattern: "((?:https?|ftps?)://[^:/\\s@]{1,}:)[^@/\\s]{1,}(?=@)",
    ignoreCase: true,
    keepPrefix: true,
  },
  {
    id: "project:google-api-key",
    kind: "Google API key",
    keywords: ["aiza"],
    pattern: "\\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
  },
  {
    id: "project:jwt",
    kind: "JWT",
    keywords: ["eyj"],
    pattern: "\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}",
  },
  {
    id: "project:bearer",
    kind: "Bearer token",
    keywords: ["bearer"],
    pattern: "(\\bbearer[ \\t]+)[A-Za-z0-9._~+/=-]{8,}",
    ignoreCase: true,
    keepPrefix: true,
  },
  {
    id: "project:assignment",
    kind: "credential assignment",
    keywords: ["pass", "pwd", "secret", "key", "token"],
    pattern:
      "(\\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)[\"']?[ \\t]*(?::|=>|=)[ \\t]*[\"']?)[^\\s\"',;]{6,}",
    ignoreCase: true,
    keepPrefix: true,
  },
];

/** The replacement text of a redacted secret. */
export const REDACTED = "[REDACTED]";

/** The JavaScript form of a rule: the portable pattern with flags. */
export function jsRegExp(rule: SecretRule, global = false): RegExp {
  return new RegExp(rule.pattern, `${rule.ignoreCase ? "i" : ""}${global ? "g" : ""}`);
}

/** One redaction pass: a prefilter of keywords (case-insensitive literals) and the expression it guards. */
export interface RedactionPass {
  /** Case-insensitive alternation of the keywords of the pass's rules; the text holds none → the pass is skipped. */
  prefilter: string;
  pattern: string;
  ignoreCase: boolean;
  keepPrefix: boolean;
}

const escapeLiteral = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`);

/**
 * How redaction applies the rules, here and in SQL alike: one alternation of every case-sensitive whole-match rule
 * (Postgres caches few compiled expressions, and one pass over the text is cheaper than thirty), then each other
 * rule on its own (case-insensitive ones, and those that keep a prefix). Each pass runs only when its keywords occur.
 */
export function redactionPasses(): RedactionPass[] {
  const pass = (rules: SecretRule[]): RedactionPass => ({
    prefilter: [...new Set(rules.flatMap((r) => r.keywords))].map(escapeLiteral).join("|"),
    pattern: rules.length === 1 ? rules[0]!.pattern : rules.map((r) => `(?:${r.pattern})`).join("|"),
    ignoreCase: !!rules[0]!.ignoreCase,
    keepPrefix: !!rules[0]!.keepPrefix,
  });
  return [
    pass(SECRET_RULES.filter((r) => !r.keepPrefix && !r.ignoreCase)),
    ...SECRET_RULES.filter((r) => r.keepPrefix || r.ignoreCase).map((r) => pass([r])),
  ];
}

const PASSES = redactionPasses().map((p) => ({
  prefilter: new RegExp(p.prefilter, "i"),
  re: new RegExp(p.pattern, p.ignoreCase ? "gi" : "g"),
  replacement: p.keepPrefix ? `$1${REDACTED}` : REDACTED,
}));
const COMPILED = SECRET_RULES.map((rule) => ({ rule, re: jsRegExp(rule) }));

/** The first rule a line matches, or null: what tier 0 reports (by kind, never the value). */
export function findSecret(text: string): SecretRule | null {
  for (const { rule, re } of COMPILED) if (re.test(text)) return rule;
  return null;
}

/** Replaces every secret in `text` with [REDACTED]: what SQL `coord.redact` does before anything is stored. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const { prefilter, re, replacement } of PASSES) if (prefilter.test(out)) out = out.replace(re, replacement);
  return out;
}
