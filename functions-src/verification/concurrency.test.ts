import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, agentHeaders, freshPostgres } from "../../test/helpers.ts";
import type { Db } from "../db/port.ts";
import { WEBHOOK_SECRET, example, githubHeaders, recordingServer, sha, gatewayApp } from "../../test/verification.ts";

// Concurrency is only meaningful on the real server: PGlite serialises every query on one connection.
describe.runIf(!!DATABASE_URL)("verification under concurrency [postgres]", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let db: Db;
  beforeAll(async () => {
    pg = await freshPostgres({ max: 20 });
    db = pg.db;
  });
  afterAll(async () => pg?.drop());

  it("20 simultaneous copies of one delivery: exactly one is processed, the rest answer duplicate", async () => {
    const cap = gatewayApp(db, { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const { app } = cap;
    const push = example("push");
    Object.assign(push, { ref: "refs/heads/main", after: sha("race-push") });
    push.commits = [{ added: ["src/a.ts"], modified: [], removed: [] }];
    const body = JSON.stringify(push);
    const headers = await githubHeaders("push", "d-race", body);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.request("/webhook/github", { method: "POST", body, headers })),
    );
    await cap.settled();
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const received = await db.query(
      "select 1 from coord.events where kind = 'webhook.received' and subject = 'github:d-race'",
    );
    expect(received).toHaveLength(1);
    expect(await db.query("select 1 from coord.changesets where commit_sha = $1", [push.after])).toHaveLength(1);
  });

  it("five hosts syncing one commit at once create exactly one check run", async () => {
    const github = await recordingServer((r) =>
      r.method === "POST" ? { status: 201, body: { id: 31337 } } : { status: 200, body: {} },
    );
    try {
      const { app } = gatewayApp(db);
      const commit = sha("race-check");
      const res = await app.request("/webhook/agent", {
        method: "POST",
        headers: agentHeaders("solo"),
        body: JSON.stringify({ repo: "acme/app", commit_sha: commit, files: [{ path: "a.md", status: "added" }] }),
      });
      expect(res.status).toBe(201);
      // Five apps over one database: five hosts, each with its own gateway service.
      const hosts = Array.from(
        { length: 5 },
        () => gatewayApp(db, { GITHUB_TOKEN: "ghs_race", GITHUB_API_URL: github.url }).service,
      );
      await Promise.all(hosts.map((h) => h.syncCheckRuns()));
      const posts = github.requests.filter((r) => r.method === "POST" && r.body.head_sha === commit);
      expect(posts).toHaveLength(1);
      const [row] = await db.query<{ check_run_id: string }>(
        "select check_run_id::text from coord.changesets where commit_sha = $1",
        [commit],
      );
      expect(row!.check_run_id).toBe("31337");
    } finally {
      await github.close();
    }
  });

  it("the same commit submitted by 10 agents at once makes one changeset, and every caller gets its id", async () => {
    const { app } = gatewayApp(db);
    const commit = sha("race-submit");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        app.request("/webhook/agent", {
          method: "POST",
          headers: agentHeaders(`racer-${i}`),
          body: JSON.stringify({
            repo: "acme/app",
            commit_sha: commit,
            files: [{ path: "src/a.ts", status: "modified" }],
          }),
        }),
      ),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const bodies = await Promise.all(answers.map((a) => a.json()));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(bodies.filter((b) => b.existing === false)).toHaveLength(1);
    expect(
      await db.query(
        "select 1 from coord.verification_results r join coord.changesets c on c.id = r.changeset_id where c.commit_sha = $1",
        [commit],
      ),
    ).toHaveLength(2);
  });
});
