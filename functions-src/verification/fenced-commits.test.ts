/**
 * Fenced commits end to end: locks taken through the API, real commits in a real git repository carrying the
 * Coordinator-Lock-* trailers (written with `git commit --trailer`, as the guard's commit-msg hook writes them), and
 * their messages and times fed to the gateway through signed push webhooks (real @octokit/webhooks-examples payloads),
 * `submit_changes`, and a pull request whose commits come from the GitHub stand-in (github.contract.md).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CAPABILITIES } from "../app.ts";
import { agentHeaders, forEachDatabase, type TestDatabase } from "../../test/helpers.ts";
import { WEBHOOK_SECRET, example, gatewayApp, githubHeaders, recordingServer } from "../../test/verification.ts";
import type { ChangesetView, FencingView } from "./schemas.ts";
import { checkRunBody } from "./service.ts";

/** The bridge's trailer path encoding (mcp-bridge guard): `%`, `,`, `=`, space and ASCII controls become `%XX`. */
const encodePath = (p: string) =>
  [...p]
    .map((ch) => {
      const code = ch.charCodeAt(0);
      const special = code <= 0x20 || code === 0x7f || "%,=".includes(ch);
      return special ? `%${code.toString(16).toUpperCase().padStart(2, "0")}` : ch;
    })
    .join("");

interface Commit {
  sha: string;
  committedAt: string;
  message: string;
}

/** A real repository in a temp folder, with helpers to write files and commit them with lock trailers. */
function gitRepo() {
  const dir = mkdtempSync(join(tmpdir(), "fenced-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Agent", "-c", "user.email=agent@example.invalid", ...args], {
      cwd: dir,
      encoding: "utf8",
    });
  git("init", "-q", "-b", "main");
  return {
    dir,
    /** Writes the files, stages them and commits with the given trailers (no hooks run). */
    commit(subject: string, files: string[], trailers: string[] = []): Commit {
      for (const f of files) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), `${subject}\n${Math.random()}\n`);
      }
      git("add", "--", ...files);
      git("commit", "-q", "--no-verify", "-m", subject, ...trailers.flatMap((t) => ["--trailer", t]));
      const [sha, committedAt, ...message] = git("log", "-1", "--format=%H%x00%cI%x00%B").split("\0");
      return { sha: sha!, committedAt: committedAt!, message: message.join("\0") };
    },
  };
}

/** The trailers the guard writes for a commit made under these locks. */
const trailers = (repo: string, agent: string, tokens: Array<[string, number | string]>) => [
  `Coordinator-Lock-Repo: ${repo}`,
  `Coordinator-Lock-Agent: ${agent}`,
  `Coordinator-Lock-Tokens: ${tokens.map(([p, t]) => `${encodePath(p)}=${t}`).join(", ")}`,
];

/** Waits until the wall clock is in a later second than `iso`: git stamps commits in whole seconds. */
async function pastSecondOf(iso: string): Promise<void> {
  const wait = Math.floor(Date.parse(iso) / 1000) * 1000 + 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 10));
}

forEachDatabase("fenced commits", (get) => {
  // No clock tolerance: these commits and the database share this machine's clock, so a commit made a second after
  // the loss is caught. (The boundaries with a tolerance are in lock-history.test.ts.)
  const env = { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, VERIFICATION_CLOCK_SKEW_SECONDS: "0" };
  let gw: ReturnType<typeof gatewayApp>;
  beforeAll(() => {
    gw = gatewayApp(get().db, env, { capabilities: CAPABILITIES });
  });
  const post = async (path: string, agent: string, body: unknown) =>
    gw.app.request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
  const acquire = async (agent: string, repo: string, paths: string[]) => {
    const res = await post("/locks/acquire", agent, { repo, file_paths: paths });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { locks: Array<{ key: string; token: number }> };
    return Object.fromEntries(body.locks.map((l) => [l.key, l.token]));
  };
  const release = async (agent: string, repo: string, path: string) => {
    const res = await post("/locks/release", agent, { repo, file_path: path });
    expect(res.status).toBe(200);
    return ((await res.json()) as { released_at: string }).released_at;
  };
  const changeset = async (sha: string): Promise<ChangesetView> => {
    const [row] = await get().db.query<{ id: string }>("select id::text from coord.changesets where commit_sha = $1", [
      sha,
    ]);
    expect(row, `a changeset for ${sha}`).toBeDefined();
    const res = await gw.app.request(`/changesets/${row!.id}`, { headers: agentHeaders("reader") });
    expect(res.status).toBe(200);
    return (await res.json()) as ChangesetView;
  };
  const push = async (delivery: string, commits: Commit[]) => {
    const payload = example("push", (e) => e.ref === "refs/heads/master");
    payload.ref = "refs/heads/main";
    payload.repository.full_name = "acme/fenced";
    payload.after = commits[commits.length - 1]!.sha;
    payload.commits = commits.map((c) => ({
      ...payload.head_commit,
      id: c.sha,
      message: c.message,
      timestamp: c.committedAt,
      added: [],
      modified: ["src/a.ts"],
      removed: [],
    }));
    payload.head_commit = payload.commits[payload.commits.length - 1];
    const body = JSON.stringify(payload);
    const res = await gw.app.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders("push", delivery, body),
    });
    expect(res.status).toBe(202);
    await gw.settled();
    const [d] = await get().db.query<{ state: string; error: string | null }>(
      "select state, error from coord.webhook_deliveries where delivery_id = $1",
      [delivery],
    );
    expect(d, d?.error ?? "").toMatchObject({ state: "processed" });
  };
  const byStatus = (f: FencingView | null, status: string) => f?.problems.filter((p) => p.status === status) ?? [];

  it("push webhooks: valid tokens pass; a commit made after the lock was lost is marked with file and token; forged trailers are reported", async () => {
    const repo = gitRepo();
    // A directory scope covers the files under it; a path with a comma, a space and = travels percent-encoded.
    const odd = "docs/a, b=c.md";
    const held = await acquire("fence-a", "acme/fenced", ["src/", "README.md", odd]);
    const c1 = repo.commit(
      "work under locks",
      ["src/a.ts", "src/deep/b.ts", "README.md", odd],
      trailers("acme/fenced", "fence-a", [
        ["README.md", held["README.md"]!],
        [odd, held[odd]!],
        ["src/a.ts", held["src/"]!],
        ["src/deep/b.ts", held["src/"]!],
      ]),
    );
    expect(c1.message).toContain("docs/a%2C%20b%3Dc.md=");
    await push("d-fence-1", [c1]);
    const ok = await changeset(c1.sha);
    expect(ok.fencing).toMatchObject({ status: "held", commits: 1, fenced: 1, tokens: 4, held: 4, problems: [] });
    expect(ok.state).toBe("pending");
    expect(checkRunBody(ok, "coordinator/verification").output.summary).toMatch(
      /Fencing: all 4 lock token\(s\) on 1 commit\(s\) were held when committed/,
    );

    // fence-a lets README.md go and fence-b takes it; fence-a then commits to it with the old token.
    const releasedAt = await release("fence-a", "acme/fenced", "README.md");
    const theirs = await acquire("fence-b", "acme/fenced", ["README.md"]);
    await pastSecondOf(releasedAt);
    const c2 = repo.commit(
      "after the loss",
      ["README.md"],
      trailers("acme/fenced", "fence-a", [["README.md", held["README.md"]!]]),
    );
    // Forged or garbled: fence-b's token, a token for another path, a token nobody was granted, garbage.
    const c3 = repo.commit(
      "forged",
      ["lib/x.ts"],
      [
        "Coordinator-Lock-Repo: acme/fenced",
        "Coordinator-Lock-Agent: fence-a",
        `Coordinator-Lock-Tokens: README.md=${theirs["README.md"]}, lib/x.ts=${held["src/"]}, src/a.ts=987654321012, garbage, src/a.ts=abc`,
      ],
    );
    const c4 = repo.commit("no agent", ["src/a.ts"], [`Coordinator-Lock-Tokens: src/a.ts=${held["src/"]}`]);
    const plain = repo.commit("no trailers", ["docs/x.md"]);
    await push("d-fence-2", [c2, c3, c4, plain]);

    const bad = await changeset(plain.sha);
    expect(bad.state).toBe("failed");
    const f = bad.fencing!;
    expect(f).toMatchObject({ status: "invalid", commits: 4, fenced: 3, tokens: 4, held: 0 });
    expect(byStatus(f, "lock_lost")).toEqual([
      expect.objectContaining({
        sha: c2.sha,
        path: "README.md",
        token: held["README.md"],
        ended: "released",
        holder: "fence-a",
        next_holder: "fence-b",
        next_token: theirs["README.md"],
      }),
    ]);
    expect(byStatus(f, "other_agent")).toEqual([
      expect.objectContaining({ sha: c3.sha, path: "README.md", token: theirs["README.md"], holder: "fence-b" }),
    ]);
    expect(byStatus(f, "other_path")).toEqual([
      expect.objectContaining({ sha: c3.sha, path: "lib/x.ts", token: held["src/"], lock_key: "src/" }),
    ]);
    expect(byStatus(f, "unknown_token")).toEqual([expect.objectContaining({ path: "src/a.ts", token: 987654321012 })]);
    expect(byStatus(f, "malformed").map((p) => [p.sha, p.message])).toEqual([
      [c3.sha, '"garbage" is not path=token'],
      [c3.sha, 'token "abc" is not a fencing token (a positive integer)'],
      [c4.sha, expect.stringMatching(/without a readable Coordinator-Lock-Agent/)],
    ]);
    expect(f.problems_total).toBe(f.problems.length);

    // The check run says which file and which token, and fails.
    const run = checkRunBody(bad, "coordinator/verification");
    expect(run).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(run.output.title).toMatch(/fencing: invalid/);
    expect(run.output.summary).toContain(
      `commit ${c2.sha.slice(0, 12)} \`README.md\` token ${held["README.md"]}: **lock_lost** — lock lost: released at`,
    );
    expect(run.output.summary).toMatch(new RegExp(`then taken by fence-b \\(token ${theirs["README.md"]}\\)`));
    expect(run.output.summary).toContain(`\`lib/x.ts\` token ${held["src/"]}: **other_path** — this token locks src/`);

    // A redelivered push (or the same commits seen again) judges nothing twice.
    await push("d-fence-2-again", [c2, c3, c4, plain]);
    expect((await changeset(plain.sha)).fencing).toMatchObject({
      commits: 4,
      tokens: 4,
      problems_total: f.problems_total,
    });
  });

  it("submit_changes: an agent's commits are judged as its own, lost locks mark the changeset instead of refusing it", async () => {
    const repo = gitRepo();
    const mine = await acquire("fence-s", "acme/fenced", ["pkg/"]);
    const ok = repo.commit("pkg work", ["pkg/a.ts"], trailers("acme/fenced", "fence-s", [["pkg/a.ts", mine["pkg/"]!]]));
    const submit = (agent: string, c: Commit, commits: Commit[] | undefined) =>
      post("/webhook/agent", agent, {
        repo: "acme/fenced",
        commit_sha: c.sha,
        files: [{ path: "pkg/a.ts", status: "modified" }],
        commits: commits?.map((x) => ({ sha: x.sha, message: x.message, committed_at: x.committedAt })),
      });
    const first = await submit("fence-s", ok, [ok]);
    expect(first.status).toBe(201);
    const v1 = (await first.json()) as ChangesetView;
    expect(v1.fencing).toMatchObject({ status: "held", tokens: 1, held: 1 });
    expect(v1.state).toBe("pending");

    // The same trailer submitted by another agent: the commit is judged as the submitter's, and reported.
    const copied = repo.commit(
      "copied trailer",
      ["pkg/c.ts"],
      trailers("acme/fenced", "fence-s", [["pkg/c.ts", mine["pkg/"]!]]),
    );
    const other = await submit("fence-t", copied, [copied]);
    expect(other.status).toBe(201);
    const v2 = (await other.json()) as ChangesetView;
    expect(v2.state).toBe("failed");
    expect(v2.fencing!.problems.map((p) => [p.status, p.holder ?? null])).toEqual([
      ["other_agent", "fence-s"],
      ["other_agent", null],
    ]);
    expect(v2.fencing!.problems[1]!.message).toMatch(/names fence-s, but fence-t submitted this commit/);

    // After the release, a commit under the old token: recorded (201, not a refusal) and marked lock_lost.
    const releasedAt = await release("fence-s", "acme/fenced", "pkg/");
    await pastSecondOf(releasedAt);
    const late = repo.commit(
      "late pkg work",
      ["pkg/b.ts"],
      trailers("acme/fenced", "fence-s", [["pkg/b.ts", mine["pkg/"]!]]),
    );
    const lost = await submit("fence-s", late, [ok, late]);
    expect(lost.status).toBe(201);
    const v3 = (await lost.json()) as ChangesetView;
    expect(v3.state).toBe("failed");
    expect(v3.fencing).toMatchObject({ status: "lock_lost", commits: 2, tokens: 2, held: 1 });
    expect(v3.fencing!.problems).toEqual([
      expect.objectContaining({
        sha: late.sha,
        status: "lock_lost",
        path: "pkg/b.ts",
        token: mine["pkg/"],
        lock_key: "pkg/",
        ended: "released",
      }),
    ]);

    // Submitted first without its commits, then seen in a push: the push's commits add their evidence.
    const later = repo.commit(
      "seen twice",
      ["pkg/d.ts"],
      trailers("acme/fenced", "fence-s", [["pkg/d.ts", mine["pkg/"]!]]),
    );
    const bare = await submit("fence-s", later, undefined);
    expect(((await bare.json()) as ChangesetView).fencing).toBeNull();
    await push("d-fence-merge", [later]);
    const merged = await changeset(later.sha);
    expect(merged.fencing).toMatchObject({ status: "lock_lost", commits: 1 });
    expect(merged.state).toBe("failed");

    // Bad input is a 400 naming the field.
    const invalid = await post("/webhook/agent", "fence-s", {
      repo: "acme/fenced",
      commit_sha: ok.sha,
      files: [{ path: "pkg/a.ts", status: "modified" }],
      commits: [{ sha: ok.sha, message: ok.message, committed_at: "yesterday" }],
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toMatch(/commits\.0\.committed_at/);
  });

  pullRequestTests(get);
});

/** Pull requests: the gateway lists the PR's commits from GitHub (the stand-in speaks github.contract.md). */
function pullRequestTests(get: () => TestDatabase) {
  let github: Awaited<ReturnType<typeof recordingServer>>;
  let pages: Array<Array<Record<string, unknown>>> = [];
  beforeAll(async () => {
    github = await recordingServer((r) => {
      if (r.headers.authorization !== "Bearer ghs_fence_token")
        return { status: 401, body: { message: "Bad credentials" } };
      const m = /^\/repos\/acme\/fenced\/pulls\/(\d+)\/(files|commits)\?per_page=100&page=(\d+)$/.exec(r.path);
      if (r.method === "GET" && m?.[2] === "files")
        return { status: 200, body: m[3] === "1" ? [{ filename: "src/a.ts", status: "modified" }] : [] };
      if (r.method === "GET" && m?.[2] === "commits") return { status: 200, body: pages[Number(m[3]) - 1] ?? [] };
      if (r.method === "POST" && r.path === "/repos/acme/fenced/actions/workflows/verify.yml/dispatches")
        return { status: 204 };
      if (r.method === "POST" && r.path === "/repos/acme/fenced/check-runs") return { status: 201, body: { id: 4242 } };
      if (r.method === "PATCH" && r.path === "/repos/acme/fenced/check-runs/4242") return { status: 200, body: {} };
      return undefined;
    });
  });
  afterAll(() => github?.close());

  it("pull requests: commits listed through the REST API (paged), the check run names the file and token", async () => {
    const gw = gatewayApp(
      get().db,
      {
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        GITHUB_TOKEN: "ghs_fence_token",
        GITHUB_API_URL: github.url,
        VERIFICATION_CLOCK_SKEW_SECONDS: "0",
      },
      { capabilities: CAPABILITIES },
    );
    const post = (path: string, agent: string, body: unknown) =>
      gw.app.request(path, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
    const repo = gitRepo();
    const got = (await (
      await post("/locks/acquire", "fence-pr", { repo: "acme/fenced", file_path: "web/a.ts" })
    ).json()) as {
      locks: Array<{ token: number }>;
    };
    const tok = got.locks[0]!.token;
    const good = repo.commit("pr work", ["web/a.ts"], trailers("acme/fenced", "fence-pr", [["web/a.ts", tok]]));
    const rel = (await (
      await post("/locks/release", "fence-pr", { repo: "acme/fenced", file_path: "web/a.ts" })
    ).json()) as {
      released_at: string;
    };
    await pastSecondOf(rel.released_at);
    const late = repo.commit("pr late", ["web/a.ts"], trailers("acme/fenced", "fence-pr", [["web/a.ts", tok]]));
    // GitHub's shape: {sha, commit: {message, author: {date}, committer: {date}}}; 100 per page.
    const asGitHub = (c: Commit) => ({
      sha: c.sha,
      commit: { message: c.message, author: { date: c.committedAt }, committer: { date: c.committedAt } },
    });
    const filler = Array.from({ length: 99 }, (_, i) => ({
      sha: (i + 1).toString(16).padStart(40, "0"),
      commit: { message: `filler ${i}`, committer: { date: good.committedAt } },
    }));
    pages = [[asGitHub(good), ...filler], [asGitHub(late)]];

    const pr = example("pull_request", (e) => e.action === "opened");
    pr.repository.full_name = "acme/fenced";
    pr.pull_request.head.sha = late.sha;
    const body = JSON.stringify(pr);
    const res = await gw.app.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders("pull_request", "d-fence-pr", body),
    });
    expect(res.status).toBe(202);
    await gw.settled();

    const listed = github.requests.filter((r) => r.path.includes("/commits"));
    expect(listed.map((r) => r.path)).toEqual([
      `/repos/acme/fenced/pulls/${pr.number}/commits?per_page=100&page=1`,
      `/repos/acme/fenced/pulls/${pr.number}/commits?per_page=100&page=2`,
    ]);
    const runs = github.requests.filter((r) => r.path.startsWith("/repos/acme/fenced/check-runs"));
    const last = runs[runs.length - 1]!.body;
    expect(last).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(last.output.summary).toContain(`commit ${late.sha.slice(0, 12)} \`web/a.ts\` token ${tok}: **lock_lost**`);
    expect(last.output.summary).toMatch(/Fencing: \*\*lock_lost\*\* — 1 finding\(s\) on 2 fenced commit\(s\)/);
  });
}
