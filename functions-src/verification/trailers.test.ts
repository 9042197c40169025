import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fencingInput } from "./fencing.ts";
import { decodeTrailerPath, MAX_TOKENS_PER_COMMIT, parseLockTrailers, trailerBlock } from "./trailers.ts";

const dir = mkdtempSync(join(tmpdir(), "trailers-"));
/** What git itself reads as the message's trailers (`git interpret-trailers --parse`), as {key, value} pairs. */
function gitTrailers(message: string): Array<{ key: string; value: string }> {
  const out = execFileSync("git", ["interpret-trailers", "--parse", "--no-divider"], {
    cwd: dir,
    input: message,
    encoding: "utf8",
  });
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(":");
      return { key: l.slice(0, i), value: l.slice(i + 1).trim() };
    });
}

describe("lock trailers", () => {
  it("reads the bridge's format: repo, agent, percent-encoded paths and their tokens", () => {
    const t = parseLockTrailers(
      "Fix the parser\n\nLonger body.\n\nCoordinator-Lock-Repo: acme/app\nCoordinator-Lock-Agent: agent-a\n" +
        "Coordinator-Lock-Tokens: docs/a%2C%20b%3Dc.md=17, lib/deep/x.ts=9, src/mine.ts=9223372036854775807\n",
    );
    expect(t).toEqual({
      repo: "acme/app",
      agent: "agent-a",
      tokens: [
        { path: "docs/a, b=c.md", token: "17" },
        { path: "lib/deep/x.ts", token: "9" },
        { path: "src/mine.ts", token: "9223372036854775807" },
      ],
      problems: [],
    });
  });

  it("finds the trailer block where git does (compared with git interpret-trailers --parse)", () => {
    const messages = [
      "Subject\n\nCoordinator-Lock-Agent: a\nCoordinator-Lock-Tokens: x=1\n",
      // Our keys in the body, not in the last paragraph: git does not read them, neither do we.
      "Subject\n\nCoordinator-Lock-Tokens: x=1\n\nJust prose at the end.\n",
      // Only a subject: never a trailer block.
      "Coordinator-Lock-Tokens: x=1\n",
      // A mixed last paragraph without a git-generated trailer is prose.
      "Subject\n\nSome words here\nCoordinator-Lock-Tokens: x=1\n",
      // With Signed-off-by, a quarter of trailer lines suffices.
      "Subject\n\nSigned-off-by: A <a@x>\nCoordinator-Lock-Tokens: x=1\nprose line\n",
      // Continuation lines unfold; case of the key does not matter.
      "Subject\n\ncoordinator-lock-tokens: x=1,\n  y=2\nCoordinator-Lock-Agent: a\n",
      // Trailing blank lines.
      "Subject\n\nCoordinator-Lock-Tokens: x=1\n\n\n",
    ];
    for (const m of messages) {
      const ours = trailerBlock(m).filter((t) => t.key.toLowerCase().startsWith("coordinator-lock"));
      const git = gitTrailers(m).filter((t) => t.key.toLowerCase().startsWith("coordinator-lock"));
      expect(ours, JSON.stringify(m)).toEqual(git);
      // CRLF line ends read as LF ones (git would keep the CR inside an unfolded value).
      expect(trailerBlock(m.replaceAll("\n", "\r\n"))).toEqual(trailerBlock(m));
    }
  });

  it("writes back what git interpret-trailers appended to a real message", () => {
    const msg = execFileSync(
      "git",
      [
        "interpret-trailers",
        "--trailer",
        "Coordinator-Lock-Agent: agent-a",
        "--trailer",
        "Coordinator-Lock-Tokens: src/a.ts=5, src/dir%20x/b.ts=6",
      ],
      { cwd: dir, input: "Subject\n\nBody text.\n\nSigned-off-by: A <a@x>\n", encoding: "utf8" },
    );
    expect(parseLockTrailers(msg)).toMatchObject({
      agent: "agent-a",
      tokens: [
        { path: "src/a.ts", token: "5" },
        { path: "src/dir x/b.ts", token: "6" },
      ],
      problems: [],
    });
  });

  it("reports every unreadable part and keeps the readable ones", () => {
    const t = parseLockTrailers(
      "S\n\nCoordinator-Lock-Agent: a\nCoordinator-Lock-Agent: b\nCoordinator-Lock-Repo: ../etc\n" +
        "Coordinator-Lock-Tokens: nonsense, ok.ts=3, bad.ts=abc, zero.ts=0, big.ts=9223372036854775808, " +
        "/etc/passwd=4, ../up.ts=5, br%ZZoken=6, =7, dup.ts=8, dup.ts=8\n",
    );
    expect(t.agent).toBeNull();
    expect(t.repo).toBeNull();
    expect(t.tokens).toEqual([
      { path: "ok.ts", token: "3" },
      { path: "dup.ts", token: "8" },
      { path: "dup.ts", token: "8" },
    ]);
    const messages = t.problems.map((p) => p.message).join("\n");
    expect(t.problems.every((p) => p.status === "malformed")).toBe(true);
    expect(messages).toMatch(/Coordinator-Lock-Agent given 2 different values/);
    expect(messages).toMatch(/Coordinator-Lock-Repo "..\/etc" is not a repo name/);
    expect(messages).toMatch(/"nonsense" is not path=token/);
    expect(messages).toMatch(/token "abc" is not a fencing token/);
    expect(messages).toMatch(/token "0" is not/);
    expect(messages).toMatch(/token "9223372036854775808" is not/);
    expect(messages).toMatch(/path "\/etc\/passwd" is not a repository path/);
    expect(messages).toMatch(/path "..\/up.ts" is not/);
    expect(messages).toMatch(/path "br%ZZoken" is not/);
    expect(messages).toMatch(/"=7" is not path=token/);
    expect(parseLockTrailers("S\n\nCoordinator-Lock-Tokens: ,\n").problems).toEqual([
      { status: "malformed", message: "Coordinator-Lock-Tokens names no token" },
    ]);
  });

  it("caps the tokens one commit may name, and echoes at most a short piece of garbage", () => {
    const many = Array.from({ length: MAX_TOKENS_PER_COMMIT + 5 }, (_, i) => `f${i}.ts=${i + 1}`).join(", ");
    const t = parseLockTrailers(`S\n\nCoordinator-Lock-Tokens: ${many}\n`);
    expect(t.tokens).toHaveLength(MAX_TOKENS_PER_COMMIT);
    expect(t.problems.map((p) => p.message)).toEqual([expect.stringMatching(/more than 1000 tokens/)]);
    const long = parseLockTrailers(`S\n\nCoordinator-Lock-Tokens: ${"x".repeat(5000)}\n`);
    expect(long.problems[0]!.message.length).toBeLessThan(120);
  });

  it("decodes only well-formed escapes", () => {
    expect(decodeTrailerPath("a%2Cb%3D%25%20c")).toBe("a,b=% c");
    expect(decodeTrailerPath("a%2")).toBeNull();
    expect(decodeTrailerPath("a%FF")).toBeNull(); // not UTF-8
  });

  it("judges an agent's commits as its own and a webhook's as the agent its trailer names", () => {
    const sha = "a".repeat(40);
    const msg = "S\n\nCoordinator-Lock-Agent: other\nCoordinator-Lock-Tokens: x.ts=1\n";
    const agent = fencingInput([{ sha, message: msg, committedAt: "2026-01-01T00:00:00Z" }], {
      submitter: "me",
      skewSeconds: 5,
    });
    expect(agent.commits[0]).toMatchObject({ agent: "me", problems: [{ status: "other_agent" }] });
    const hook = fencingInput([{ sha, message: msg, committedAt: "2026-01-01T00:00:00Z" }], {
      submitter: null,
      skewSeconds: 5,
    });
    expect(hook.commits[0]).toMatchObject({ agent: "other", problems: [] });
    const anonymous = fencingInput([{ sha, message: "S\n\nCoordinator-Lock-Tokens: x.ts=1\n", committedAt: null }], {
      submitter: null,
      skewSeconds: 5,
    });
    expect(anonymous.commits[0]!.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/without a readable Coordinator-Lock-Agent/),
      expect.stringMatching(/no readable time/),
    ]);
    // Commits that are not commits (no full id) are not evidence of anything.
    expect(
      fencingInput([{ sha: "HEAD", message: msg, committedAt: null }], { submitter: null, skewSeconds: 0 }),
    ).toEqual({ skew_seconds: 0, commits: [] });
  });
});
