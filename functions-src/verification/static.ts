import picomatch from "picomatch";
import { parse as parseYaml } from "yaml";
import { parse as parseToml } from "smol-toml";
import { findSecret } from "../util/secrets.ts";
import type { ChangedFile } from "./routing.ts";

/** A changed file as tier 0 sees it: its path, and its new content or unified diff when the change carries them. */
export interface StaticInput extends ChangedFile {
  content?: string;
  diff?: string;
  size?: number;
}

export interface Finding {
  check: "secret" | "conflict_marker" | "oversized" | "forbidden_path" | "syntax";
  path: string;
  line?: number;
  message: string;
}

export interface StaticResult {
  passed: boolean;
  summary: string;
  details: { findings: Finding[]; checked_files: number; content_files: number };
}

/** Files above this many bytes are refused: binaries and dumps belong in artifact storage, not the repository. */
export const MAX_FILE_BYTES = 1024 * 1024;

const CONFLICT = /^(?:<{7}(?: |$)|={7}$|>{7}(?: |$))/;
// Never committed, whatever the tier: dependency trees, local state, private keys by their usual names.
const isForbidden = picomatch(
  [
    "**/node_modules/**",
    "**/.DS_Store",
    "**/*.tfstate",
    "**/*.tfstate.backup",
    "**/id_rsa",
    "**/id_ed25519",
    "**/.coordinator/**",
  ],
  { dot: true },
);

// JSON files that tools read as JSON-with-comments: their comments are not syntax errors.
const JSONC = /(^|\/)(tsconfig[^/]*|jsconfig[^/]*|devcontainer|\.eslintrc|tslint)\.json$|(^|\/)\.vscode\//;

/** The added lines of a unified diff (new text), with their line numbers in the new file. */
function addedLines(diff: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let line = 0;
  for (const raw of diff.split("\n")) {
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      continue;
    }
    if (raw.startsWith("+++") || raw.startsWith("---")) continue;
    if (raw.startsWith("+")) out.push([line++, raw.slice(1)]);
    else if (raw.startsWith(" ")) line++;
  }
  return out;
}

function syntaxError(path: string, content: string): string | null {
  const lower = path.toLowerCase();
  try {
    if (lower.endsWith(".json") && !JSONC.test(lower)) JSON.parse(content);
    else if (lower.endsWith(".yaml") || lower.endsWith(".yml")) parseYaml(content);
    else if (lower.endsWith(".toml")) parseToml(content);
    else return null;
    return null;
  } catch (err) {
    // Parser messages quote the offending line; keep the first line only (it could hold a secret otherwise).
    return (err as Error).message.split("\n")[0]!.slice(0, 200);
  }
}

/**
 * Tier 0: checks what the change carries, inline — secret patterns, conflict markers, oversized files, forbidden
 * paths, and JSON/YAML/TOML syntax of full contents (a diff alone cannot be parsed; tsconfig-style files allow comments).
 */
export function runStaticChecks(files: StaticInput[]): StaticResult {
  const findings: Finding[] = [];
  let contentFiles = 0;
  for (const f of files) {
    if (f.status !== "removed" && isForbidden(f.path)) {
      findings.push({ check: "forbidden_path", path: f.path, message: "this path must never be committed" });
    }
    if (f.status === "removed") continue;
    const size = f.size ?? (f.content !== undefined ? new TextEncoder().encode(f.content).length : undefined);
    if (size !== undefined && size > MAX_FILE_BYTES) {
      findings.push({
        check: "oversized",
        path: f.path,
        message: `${size} bytes is over the ${MAX_FILE_BYTES}-byte limit`,
      });
    }
    const lines: Array<[number, string]> =
      f.content !== undefined
        ? f.content.split("\n").map((l, i) => [i + 1, l])
        : f.diff !== undefined
          ? addedLines(f.diff)
          : [];
    if (f.content !== undefined || f.diff !== undefined) contentFiles++;
    for (const [n, text] of lines) {
      if (CONFLICT.test(text))
        findings.push({ check: "conflict_marker", path: f.path, line: n, message: "merge-conflict marker" });
      // The app's one secret rule set (util/secrets.ts), the same as memory redaction; the kind, never the value.
      const secret = findSecret(text);
      if (secret) findings.push({ check: "secret", path: f.path, line: n, message: `looks like a ${secret.kind}` });
    }
    if (f.content !== undefined) {
      const err = syntaxError(f.path, f.content);
      if (err) findings.push({ check: "syntax", path: f.path, message: err });
    }
  }
  const capped = findings.slice(0, 100);
  const summary =
    findings.length === 0
      ? `static checks passed (${files.length} files, ${contentFiles} with content)`
      : `${findings.length} finding(s): ${capped
          .slice(0, 3)
          .map((x) => `${x.check} in ${x.path}${x.line ? `:${x.line}` : ""}`)
          .join("; ")}`;
  return {
    passed: findings.length === 0,
    summary,
    details: { findings: capped, checked_files: files.length, content_files: contentFiles },
  };
}
