/**
 * Fenced commits, the gateway side: every commit the gateway sees (a push's commits, a pull request's commits, the
 * commits an agent submits) has its lock-token trailers read here and judged in SQL against the lock history
 * (`coord.verification_fencing` → `coord.lock_tokens_live_at`). The answer is evidence on the changeset, shown in its
 * document and its check run: docs/VERIFICATION.md, "Fenced commits".
 */
import type { FencingProblemView, FencingView } from "./schemas.ts";
import { parseLockTrailers, TRAILER_AGENT, TRAILER_TOKENS, type TrailerProblem } from "./trailers.ts";

/** A commit as the gateway sees it: its id, its full message, and its time by the committer's clock. */
export interface CommitInput {
  sha: string;
  message: string;
  /** ISO 8601 with an offset (git's `%cI`, GitHub's `timestamp` / `committer.date`); null when the source gave none. */
  committedAt: string | null;
}

/** Tokens judged per change, over all its commits: a push of 2048 commits each naming 1000 tokens is not judged whole. */
export const MAX_CLAIMS_PER_CHANGE = 10_000;
/** Commits judged per change: GitHub's own cap on a push's commit list. */
export const MAX_COMMITS_PER_CHANGE = 2048;

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** One commit as SQL judges it (see coord.verification_fencing). */
interface FencedCommit {
  sha: string;
  committed_at: string | null;
  repo: string | null;
  agent: string | null;
  tokens: Array<{ path: string; token: string }>;
  problems: TrailerProblem[];
}

/** The `fencing` part of coord.submit_changeset's input. */
export interface FencingInput {
  skew_seconds: number;
  commits: FencedCommit[];
}

/**
 * Reads the trailers of a change's commits. `submitter` is the authenticated agent of an agent submission: its commits
 * are judged as its own (a trailer naming another agent is reported, not believed). Webhook commits (`submitter`
 * null) are judged as the agent their trailer names, and a token without an agent cannot vouch for anything.
 */
export function fencingInput(
  commits: readonly CommitInput[],
  options: { submitter: string | null; skewSeconds: number },
): FencingInput {
  let claims = 0;
  const out: FencedCommit[] = [];
  for (const c of commits.slice(0, MAX_COMMITS_PER_CHANGE)) {
    if (typeof c.sha !== "string" || !COMMIT_ID.test(c.sha)) continue;
    const t = parseLockTrailers(typeof c.message === "string" ? c.message : "");
    const problems = [...t.problems];
    let agent = t.agent;
    if (options.submitter !== null) {
      if (t.agent !== null && t.agent !== options.submitter) {
        problems.push({
          status: "other_agent",
          message: `${TRAILER_AGENT} names ${t.agent}, but ${options.submitter} submitted this commit; tokens are checked as ${options.submitter}'s`,
        });
      }
      agent = options.submitter;
    } else if (t.tokens.length > 0 && agent === null) {
      problems.push({
        status: "malformed",
        message: `${TRAILER_TOKENS} without a readable ${TRAILER_AGENT}: the tokens cannot vouch for anyone`,
      });
    }
    const at = c.committedAt === null || Number.isNaN(Date.parse(c.committedAt)) ? null : c.committedAt;
    if (t.tokens.length > 0 && at === null) {
      problems.push({ status: "malformed", message: "the commit has no readable time: its tokens cannot be judged" });
    }
    let tokens = t.tokens;
    if (claims + tokens.length > MAX_CLAIMS_PER_CHANGE) {
      problems.push({
        status: "unchecked",
        message: `more than ${MAX_CLAIMS_PER_CHANGE} lock tokens in one change: ${tokens.length} of this commit were not judged; push fewer commits at once`,
      });
      tokens = [];
    }
    claims += tokens.length;
    out.push({ sha: c.sha, committed_at: at, repo: t.repo, agent, tokens, problems });
  }
  return { skew_seconds: options.skewSeconds, commits: out };
}

/** One finding as a sentence: which file and token, what happened to the lock, when the commit was made. */
export function describeProblem(p: FencingProblemView): string {
  const token = p.token !== undefined ? `token ${p.token}` : "";
  const where = [p.path ? `\`${p.path}\`` : "", token].filter(Boolean).join(" ");
  const made = p.committed_at ? `; committed ${p.committed_at}` : "";
  const why = (() => {
    switch (p.status) {
      case "lock_lost": {
        const lock = p.lock_key && p.lock_key !== p.path ? ` (lock on ${p.lock_key})` : "";
        const ended = p.ended === "unknown" ? "ended (when is not recorded)" : `${p.ended} at ${p.ended_at}`;
        const next = p.next_holder ? `, then taken by ${p.next_holder} (token ${p.next_token}) at ${p.next_at}` : "";
        return `lock lost${lock}: ${ended}${next}${made}`;
      }
      case "not_yet_held":
        return `the lock${p.lock_key && p.lock_key !== p.path ? ` on ${p.lock_key}` : ""} was granted at ${p.acquired_at}, after the commit${made}`;
      case "future":
        return `the commit's time is ahead of the server's clock by more than the tolerance${made}`;
      case "unknown_token":
        return "no lock was ever granted with this token";
      case "other_repo":
        return "this token is a lock in another repo";
      case "other_path":
        return `this token locks ${p.lock_key}, which does not cover the file`;
      case "other_agent":
        return p.holder ? `this token is ${p.holder}'s lock, not the committer's` : (p.message ?? "another agent");
      default:
        return p.message ?? p.status;
    }
  })();
  return `commit ${p.sha.slice(0, 12)}${where ? ` ${where}` : ""}: **${p.status}** — ${why}`;
}

/** The fencing part of a check run's summary (empty when no commit was seen). */
export function fencingLines(f: FencingView | null): string[] {
  if (!f || f.commits === 0) return [];
  if (f.status === "none") return ["", `Fencing: none of ${f.commits} commit(s) carried lock tokens.`];
  const head =
    f.status === "held"
      ? `Fencing: all ${f.tokens} lock token(s) on ${f.fenced} commit(s) were held when committed (clock tolerance ${f.skew_seconds} s).`
      : `Fencing: **${f.status}** — ${f.problems_total} finding(s) on ${f.fenced} fenced commit(s) (clock tolerance ${f.skew_seconds} s):`;
  const more = f.problems_total > f.problems.length ? [`- … and ${f.problems_total - f.problems.length} more`] : [];
  return ["", head, ...f.problems.map((p) => `- ${describeProblem(p)}`), ...more];
}

/** A few words for an agent's one-line summary: what fencing found, if anything. */
export function fencingSummary(f: FencingView | null): string | null {
  if (!f || f.status === "none") return null;
  if (f.status === "held") return `fencing: ${f.tokens} token(s) held`;
  const first = f.problems[0];
  const detail = first ? `: ${first.path ?? first.sha.slice(0, 12)}${first.token ? ` token ${first.token}` : ""}` : "";
  return `fencing ${f.status} (${f.problems_total} finding(s)${detail})`;
}
