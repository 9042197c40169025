/**
 * Staleness from the code's own changes: a signed GitHub push (a real @octokit/webhooks-examples payload with file
 * lists) or an agent's submit_changes that touches files a memory names marks that memory possibly stale; recall ranks
 * it lower and labels it; memory_details with confirm=true clears the mark. Both databases.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { identityCapability } from "../identity/capability.ts";
import { statusCapability } from "../status/capability.ts";
import { verificationCapability } from "../verification/capability.ts";
import { workCapability } from "../work/capability.ts";
import { agentHeaders, forEachDatabase } from "../../test/helpers.ts";
import { example, githubHeaders, gatewayApp, sha, WEBHOOK_SECRET } from "../../test/verification.ts";
import { memoryCapability } from "./capability.ts";

type Json = Record<string, any>;

forEachDatabase("memory staleness", (get) => {
  let built: ReturnType<typeof gatewayApp>;
  beforeAll(() => {
    built = gatewayApp(
      get().db,
      { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
      {
        capabilities: [statusCapability, identityCapability, workCapability, verificationCapability, memoryCapability],
      },
    );
  });
  const request = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> }) => {
    const res = await built.app.request(path, {
      method: init.method ?? "POST",
      headers: init.headers ?? agentHeaders("writer"),
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const remember = (body: Json, agent = "writer", extra: Record<string, string> = {}) =>
    request("/memory", { body, headers: agentHeaders(agent, extra) });
  const recall = (task: string, repo: string) =>
    request("/memory/recall", { body: { task_description: task, repo }, headers: agentHeaders("reader") });
  const details = (ids: number[], confirm = false) =>
    request(`/memory/details?ids=${ids.join(",")}${confirm ? "&confirm=true" : ""}`, {
      method: "GET",
      headers: agentHeaders("reader"),
    });

  describe("through the signed GitHub push webhook", () => {
    let auth: Json;
    let other: Json;
    let current: Json;
    let push: Json;
    let repo: string;
    beforeAll(async () => {
      push = example("push");
      repo = push.repository.full_name as string;
      auth = (
        await remember({
          summary: "The auth middleware caches session tokens for five minutes",
          repo,
          file_paths: ["src/auth.ts"],
          commit_sha: sha("before").slice(0, 12),
        })
      ).body;
      other = (
        await remember({
          summary: "The auth routes log failed logins with the request id",
          repo,
          file_paths: ["src/log.ts"],
        })
      ).body;
      current = (
        await remember({
          summary: "Another repository also caches auth tokens",
          repo: "acme/elsewhere",
          file_paths: ["src/auth.ts"],
        })
      ).body;
      push.after = sha("stale-push");
      push.ref = "refs/heads/main";
      push.commits = [
        { ...(push.head_commit ?? {}), added: ["docs/auth.md"], modified: ["src/auth.ts"], removed: [] },
        { ...(push.head_commit ?? {}), added: [], modified: ["src/auth.ts", "src/session.ts"], removed: [] },
      ];
      const body = JSON.stringify(push);
      const res = await built.app.request("/webhook/github", {
        method: "POST",
        body,
        headers: await githubHeaders("push", "d-stale-1", body),
      });
      expect(res.status).toBe(202);
      await built.settled();
    });

    it("marks the memories naming a touched file, in that repository only", async () => {
      const marks = await get().db.query<{ memory_id: number; commit_sha: string; files: string[] }>(
        "select memory_id::int, commit_sha, files from coord.memory_stale_marks where memory_id = any($1) order by 1",
        [[auth.id, other.id, current.id]],
      );
      expect(marks).toEqual([{ memory_id: auth.id, commit_sha: push.after, files: ["src/auth.ts"] }]);
      const ev = await get().db.query<{ data: Json }>(
        "select data from coord.events where kind = 'memory.marked_stale' order by id desc limit 1",
      );
      expect(ev[0]!.data).toMatchObject({ memories: 1, commit_sha: push.after });
    });

    it("recall labels it and ranks it below an equally relevant current memory", async () => {
      const r = await recall("auth middleware caches session tokens", repo);
      const hit = r.body.results.find((x: Json) => x.id === auth.id);
      expect(hit.stale).toBe(`stale since ${push.after.slice(0, 7)}: src/auth.ts changed`);
      expect(r.body.results.find((x: Json) => x.id === other.id)?.stale).toBeUndefined();
      // The same relevance without the mark scores higher: compare the score after confirming.
      const before = hit.score;
      const d = await details([auth.id]);
      expect(d.body.memories[0].stale).toMatchObject({ since: push.after, files: ["src/auth.ts"], changes: 1 });
      expect(d.body.confirmed).toEqual([]);
      const confirmed = await details([auth.id], true);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.confirmed).toEqual([auth.id]);
      expect(confirmed.body.memories[0].stale).toBeUndefined();
      const after = (await recall("auth middleware caches session tokens", repo)).body.results.find(
        (x: Json) => x.id === auth.id,
      );
      expect(after.stale).toBeUndefined();
      expect(after.score).toBeGreaterThan(before);
    });
  });

  describe("through submit_changes", () => {
    it("an agent's changeset marks other sessions' memories, accumulates files, and not its own session's", async () => {
      const repo = "acme/app";
      const older = (
        await remember({
          summary: "Billing charge retries twice on timeout",
          repo,
          file_paths: ["src/billing/charge.ts", "src/billing/retry.ts"],
        })
      ).body;
      const mine = (
        await remember(
          { summary: "Billing charge now retries three times", repo, file_paths: ["src/billing/charge.ts"] },
          "changer",
          {
            "X-Session-Id": "s-change",
          },
        )
      ).body;
      const submit = (commit: string, files: string[]) =>
        request("/webhook/agent", {
          body: {
            repo,
            branch: "feat",
            commit_sha: sha(commit),
            files: files.map((path) => ({ path, status: "modified" })),
          },
          headers: agentHeaders("changer", { "X-Session-Id": "s-change" }),
        });
      expect((await submit("change-1", ["src/billing/charge.ts"])).status).toBe(201);
      expect((await submit("change-2", ["src/billing/retry.ts"])).status).toBe(201);
      const marks = await get().db.query<{ memory_id: number; commit_sha: string; files: string[]; changes: number }>(
        "select memory_id::int, commit_sha, files, changes from coord.memory_stale_marks where memory_id = any($1) order by 1",
        [[older.id, mine.id]],
      );
      expect(marks).toEqual([
        {
          memory_id: older.id,
          commit_sha: sha("change-1"),
          files: ["src/billing/charge.ts", "src/billing/retry.ts"],
          changes: 2,
        },
      ]);
      const hit = (await recall("billing charge retries", repo)).body.results.find((x: Json) => x.id === older.id);
      expect(hit.stale).toBe(
        `stale since ${sha("change-1").slice(0, 7)}: src/billing/charge.ts, src/billing/retry.ts changed`,
      );
    });
  });
});
