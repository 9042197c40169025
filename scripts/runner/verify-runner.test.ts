import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AGENT_KEY, agentHeaders, forEachDatabase } from "../../test/helpers.ts";
import { AgentCoordinationClient } from "../../client/src/index.ts";
import { runOnce } from "./verify-runner.ts";
import { gatewayApp } from "../../test/verification.ts";

forEachDatabase("local verification runner", (get) => {
  let repo: string;
  let good: string;
  let bad: string;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" }).trim();
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), "verify-runner-"));
    execFileSync("git", ["init", "-q", repo]);
    git("config", "user.email", "t@example.com");
    git("config", "user.name", "t");
    writeFileSync(join(repo, "ok.txt"), "green\n");
    git("add", ".");
    git("commit", "-qm", "good");
    good = git("rev-parse", "HEAD");
    git("rm", "-q", "ok.txt");
    git("commit", "-qm", "bad");
    bad = git("rev-parse", "HEAD");
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it("claims the tier-2 job, checks out the commit, runs the suite and reports; the changeset follows", async () => {
    const { app } = gatewayApp(get().db);
    const client = new AgentCoordinationClient({
      baseUrl: "http://localhost",
      apiKey: AGENT_KEY,
      agentId: "runner-local",
      sessionId: "rl-1",
      fetch: async (url, init) => app.request(url, init),
    });
    // The "suite": the commit passes when ok.txt exists in it.
    const command = ["sh", "-c", 'git checkout -q "$VERIFY_COMMIT_SHA" && test -f ok.txt'];
    const outcomes = [];
    for (const commit of [good, bad]) {
      const res = await app.request("/webhook/agent", {
        method: "POST",
        headers: agentHeaders("coder"),
        body: JSON.stringify({
          repo: "acme/runner",
          commit_sha: commit,
          files: [{ path: "go.sum", status: "modified" }],
        }),
      });
      expect(res.status).toBe(201);
      outcomes.push({
        id: (await res.json()).id,
        run: await runOnce({ client, command, cwd: repo, taskTypes: ["verify:integration"] }),
      });
    }
    expect(outcomes.map((o) => [o.run?.passed, o.run?.commitSha])).toEqual([
      [true, good],
      [false, bad],
    ]);
    for (const [i, o] of outcomes.entries()) {
      const v = await (await app.request(`/changesets/${o.id}`, { headers: agentHeaders("coder") })).json();
      expect(v.results[2]).toMatchObject({
        status: i === 0 ? "passed" : "failed",
        commit_sha: i === 0 ? good : bad,
        reported_by: "runner-local",
      });
    }
    expect(await runOnce({ client, command, cwd: repo, taskTypes: ["verify:integration"] })).toBeNull();
    // Without GitHub configured, tier 1 went to the queue too: the same runner takes it by default.
    expect(await runOnce({ client, command, cwd: repo })).toMatchObject({ passed: true, commitSha: good });
  });
});
