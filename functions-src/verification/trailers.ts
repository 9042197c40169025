/**
 * Fenced commits, the commit side: reading the lock-token trailers `mcp-bridge guard`'s commit-msg hook writes
 * (docs/VERIFICATION.md, "Fenced commits"):
 *
 *   Coordinator-Lock-Repo: <lock repo>
 *   Coordinator-Lock-Agent: <agent id>
 *   Coordinator-Lock-Tokens: <path>=<token>, <path>=<token>
 *
 * Paths are percent-encoded where they would break that syntax (`%`, `,`, `=`, space, ASCII controls → `%XX`). A commit
 * message is anyone's text: whatever cannot be read is reported as a problem, never skipped silently and never trusted.
 */
import { AGENT_ID_PATTERN } from "../identity/agent-id.ts";
import { normalizeKey, Repo } from "../locks/keys.ts";

export const TRAILER_REPO = "Coordinator-Lock-Repo";
export const TRAILER_AGENT = "Coordinator-Lock-Agent";
export const TRAILER_TOKENS = "Coordinator-Lock-Tokens";

/** Tokens one commit may name; more is not a commit the hook wrote. */
export const MAX_TOKENS_PER_COMMIT = 1000;
const MAX_BIGINT = 9223372036854775807n;

/**
 * Something wrong with a commit's trailers, found before any token is looked up: `malformed` (unreadable),
 * `other_agent` (the trailer names another agent than the one submitting), `unchecked` (over the per-change cap).
 */
export interface TrailerProblem {
  status: "malformed" | "other_agent" | "unchecked";
  message: string;
  path?: string;
}

/** What a commit's trailers claim. `tokens` holds the readable pairs; tokens are decimal strings (bigint-safe). */
export interface LockTrailers {
  repo: string | null;
  agent: string | null;
  tokens: Array<{ path: string; token: string }>;
  problems: TrailerProblem[];
}

/** Echoes at most this much of a bad value into evidence: enough to recognise it, not a place to store text. */
const echo = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/;
const GIT_GENERATED = /^(Signed-off-by: |\(cherry picked from commit )/;

/**
 * The trailer block of a message as git reads it (git-interpret-trailers(1)): the last paragraph, when every line of
 * it is a `Key: value` trailer (or a continuation starting with whitespace), or when it holds a git-generated trailer
 * and at least a quarter of its lines are trailers. The block may also end at a `---` divider line. Answers the
 * trailers in order, continuations unfolded, or [] when the message has no trailer block.
 */
export function trailerBlock(message: string): Array<{ key: string; value: string }> {
  const lines = message.replace(/\r\n?/g, "\n").split("\n");
  const divider = lines.findIndex((l) => /^---(\s|$)/.test(l));
  const candidates = [lines];
  if (divider > 0) candidates.push(lines.slice(0, divider));
  for (const body of candidates) {
    const found = lastParagraphTrailers(body);
    if (found.length) return found;
  }
  return [];
}

function lastParagraphTrailers(lines: string[]): Array<{ key: string; value: string }> {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === "") end--;
  let start = end;
  while (start > 0 && lines[start - 1]!.trim() !== "") start--;
  // The block must follow a blank line: a message's first paragraph (its subject) is never trailers.
  if (start === 0 || start === end) return [];
  const out: Array<{ key: string; value: string }> = [];
  let trailerLines = 0;
  let other = 0;
  let generated = false;
  for (const line of lines.slice(start, end)) {
    if (/^[ \t]/.test(line) && out.length) {
      out[out.length - 1]!.value += ` ${line.trim()}`;
      continue;
    }
    if (GIT_GENERATED.test(line)) generated = true;
    const m = TRAILER_LINE.exec(line);
    if (m) {
      trailerLines++;
      out.push({ key: m[1]!, value: m[2]!.trim() });
    } else {
      other++;
    }
  }
  if (other === 0 || (generated && trailerLines * 4 >= trailerLines + other)) return out;
  return [];
}

/** Decodes `%XX` escapes; null when an escape is broken or the bytes are not UTF-8. */
export function decodeTrailerPath(encoded: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(encoded)) return null;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

/**
 * The lock trailers of one commit message: repo, agent and the `path=token` pairs, with a problem for every part
 * that cannot be read. A message without any `Coordinator-Lock-*` trailer answers no tokens and no problems.
 */
export function parseLockTrailers(message: string): LockTrailers {
  const out: LockTrailers = { repo: null, agent: null, tokens: [], problems: [] };
  const block = trailerBlock(message);
  const values = (name: string) => block.filter((t) => t.key.toLowerCase() === name.toLowerCase()).map((t) => t.value);
  const single = (name: string): string | null => {
    const all = [...new Set(values(name))];
    if (all.length > 1) {
      out.problems.push({ status: "malformed", message: `${name} given ${all.length} different values` });
      return null;
    }
    return all[0] ?? null;
  };

  const repo = single(TRAILER_REPO);
  if (repo !== null) {
    if (Repo.safeParse(repo).success) out.repo = repo;
    else out.problems.push({ status: "malformed", message: `${TRAILER_REPO} ${echo(repo)} is not a repo name` });
  }
  const agent = single(TRAILER_AGENT);
  if (agent !== null) {
    if (AGENT_ID_PATTERN.test(agent)) out.agent = agent;
    else out.problems.push({ status: "malformed", message: `${TRAILER_AGENT} ${echo(agent)} is not an agent id` });
  }

  const items = values(TRAILER_TOKENS).flatMap((v) => v.split(","));
  if (values(TRAILER_TOKENS).length > 0 && items.every((i) => i.trim() === "")) {
    out.problems.push({ status: "malformed", message: `${TRAILER_TOKENS} names no token` });
  }
  for (const raw of items) {
    const item = raw.trim();
    if (item === "") continue;
    if (out.tokens.length >= MAX_TOKENS_PER_COMMIT) {
      out.problems.push({
        status: "malformed",
        message: `${TRAILER_TOKENS} names more than ${MAX_TOKENS_PER_COMMIT} tokens; the rest were not read`,
      });
      break;
    }
    const eq = item.lastIndexOf("=");
    if (eq <= 0) {
      out.problems.push({ status: "malformed", message: `${echo(item)} is not path=token` });
      continue;
    }
    const encoded = item.slice(0, eq).trim();
    const tokenText = item.slice(eq + 1).trim();
    const decoded = decodeTrailerPath(encoded);
    const key = decoded === null ? null : normalizeKey(decoded);
    if (!key?.ok) {
      out.problems.push({ status: "malformed", message: `path ${echo(encoded)} is not a repository path` });
      continue;
    }
    if (!/^\d{1,19}$/.test(tokenText) || BigInt(tokenText) === 0n || BigInt(tokenText) > MAX_BIGINT) {
      out.problems.push({
        status: "malformed",
        path: key.key,
        message: `token ${echo(tokenText)} is not a fencing token (a positive integer)`,
      });
      continue;
    }
    out.tokens.push({ path: key.key, token: BigInt(tokenText).toString() });
  }
  return out;
}
