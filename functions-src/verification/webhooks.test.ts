import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { adminHeaders, agentHeaders, forEachDatabase } from "../../test/helpers.ts";
import { verifyGitHubSignature } from "./signatures.ts";
import {
  CALLBACK_SECRET,
  WEBHOOK_SECRET,
  callbackHeaders,
  example,
  githubHeaders,
  sha,
  gatewayApp,
} from "../../test/verification.ts";

describe("GitHub signature", () => {
  it("accepts GitHub's published test vector and rejects a tampered body", async () => {
    const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(await verifyGitHubSignature(["It's a Secret to Everybody"], "Hello, World!", sig)).toBe(true);
    expect(await verifyGitHubSignature(["It's a Secret to Everybody"], "Hello, World?", sig)).toBe(false);
    expect(await verifyGitHubSignature(["old", "It's a Secret to Everybody"], "Hello, World!", sig)).toBe(true);
    expect(await verifyGitHubSignature([], "Hello, World!", sig)).toBe(false);
  });
});

forEachDatabase("verification webhooks", (get) => {
  // GitHub is not configured here (no token): pull_request files come from this stand-in fetch.
  let prFetchFails = true;
  const fakeFetch: typeof fetch = async () =>
    prFetchFails
      ? new Response('{"message":"Bad Gateway"}', { status: 502 })
      : Response.json([{ filename: "supabase/migrations/0002_x.sql", status: "added" }]);
  const env = {
    GITHUB_WEBHOOK_SECRET: `${WEBHOOK_SECRET},a-rotated-out-older-secret`,
    VERIFICATION_CALLBACK_SECRET: CALLBACK_SECRET,
    GITHUB_TOKEN: "ghs_test_token_for_pr_files",
    GITHUB_API_URL: "http://github.invalid",
  };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input);
    // The pull request's commits carry no lock trailers here (fenced-commits.test.ts covers them).
    if (url.includes("/pulls/") && url.includes("/commits?")) return Response.json([]);
    if (url.includes("/pulls/")) return fakeFetch(input, init);
    if (url.includes("/check-runs") && init?.method === "POST") return Response.json({ id: 1 }, { status: 201 });
    return new Response(null, { status: url.includes("/dispatches") ? 204 : 200 });
  };
  // One app per database for the whole suite: `cap.settled()` waits for that app's background work.
  let gw: ReturnType<typeof gatewayApp> | undefined;
  const cap = { settled: () => gw!.settled() };
  const app = () => {
    gw ??= gatewayApp(get().db, env, { fetch });
    return gw.app;
  };
  const deliver = async (event: string, payload: unknown, delivery: string, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(payload);
    return app().request("/webhook/github", {
      method: "POST",
      body,
      headers: { ...(await githubHeaders(event, delivery, body)), ...headers },
    });
  };
  const deliveries = (id: string) =>
    get().db.query<{ state: string; attempts: number }>(
      "select state, attempts from coord.webhook_deliveries where source = 'github' and delivery_id = $1",
      [id],
    );

  it("accepts GitHub-sized payloads above the app's general body cap; other routes keep it", async () => {
    const { app: small } = gatewayApp(get().db, env, { fetch, config: { maxBodyBytes: 1024 } });
    const big = { ...(example("ping") as object), padding: "p".repeat(64 * 1024) };
    const body = JSON.stringify(big);
    const res = await small.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders("ping", "d-big-ping", body),
    });
    expect(res.status).toBe(200);
    const other = await small.request("/sessions/heartbeat", {
      method: "POST",
      body,
      headers: agentHeaders("big", { "X-Session-Id": "s" }),
    });
    expect(other.status).toBe(413);
  });

  it("ping answers 200", async () => {
    const res = await deliver("ping", example("ping"), "d-ping");
    expect(res.status).toBe(200);
  });

  it("bad or missing signature 401; missing headers 400; malformed body 400", async () => {
    const body = JSON.stringify(example("push"));
    const good = await githubHeaders("push", "d-x", body);
    const bad = await app().request("/webhook/github", {
      method: "POST",
      body,
      headers: { ...good, "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` },
    });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe("invalid_signature");
    const { "X-Hub-Signature-256": _s, ...unsigned } = good;
    expect((await app().request("/webhook/github", { method: "POST", body, headers: unsigned })).status).toBe(401);
    const otherSecret = await githubHeaders("push", "d-x", body, "not-the-secret");
    expect((await app().request("/webhook/github", { method: "POST", body, headers: otherSecret })).status).toBe(401);
    const { "X-GitHub-Event": _e, ...noEvent } = good;
    expect((await app().request("/webhook/github", { method: "POST", body, headers: noEvent })).status).toBe(400);
    const { "X-GitHub-Delivery": _d, ...noDelivery } = good;
    const missing = await app().request("/webhook/github", { method: "POST", body, headers: noDelivery });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.code).toBe("missing_headers");
    const junk = "{not json";
    const malformed = await app().request("/webhook/github", {
      method: "POST",
      body: junk,
      headers: await githubHeaders("push", "d-junk", junk),
    });
    expect(malformed.status).toBe(400);
    const arr = "[1,2]";
    expect(
      (
        await app().request("/webhook/github", {
          method: "POST",
          body: arr,
          headers: await githubHeaders("push", "d-arr", arr),
        })
      ).status,
    ).toBe(400);
  });

  it("a signed push (real payload) is stored, answered 202, processed after the answer; a duplicate is a no-op", async () => {
    const push = example("push");
    push.after = sha("push-1");
    push.ref = "refs/heads/main"; // the first example is a tag push, which the gateway ignores
    push.commits = [
      { ...(push.head_commit ?? {}), added: ["docs/new.md"], modified: ["src/app.ts"], removed: ["package-lock.json"] },
    ];
    const res = await deliver("push", push, "d-push-1");
    expect(res.status).toBe(202);
    await cap.settled();
    expect(await deliveries("d-push-1")).toEqual([{ state: "processed", attempts: 1 }]);
    const [cs] = await get().db.query<{ tier: number; source: string; agent_id: string; branch: string }>(
      "select tier, source, agent_id, branch from coord.changesets where commit_sha = $1",
      [push.after],
    );
    expect(cs).toMatchObject({ tier: 2, source: "github", branch: "main", agent_id: `github:${push.pusher.name}` });

    const again = await deliver("push", push, "d-push-1");
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: "duplicate", state: "processed" });
    await cap.settled();
    expect(await deliveries("d-push-1")).toEqual([{ state: "processed", attempts: 1 }]);
    const events = await get().db.query(
      "select 1 from coord.events where kind = 'webhook.received' and subject = 'github:d-push-1'",
    );
    expect(events).toHaveLength(1);
  });

  it("a push listing more files than are stored still routes on all of them", async () => {
    const push = example("push");
    Object.assign(push, { ref: "refs/heads/big", after: sha("push-big") });
    const many = Array.from({ length: 12_000 }, (_, i) => `d/f${i}.md`);
    push.commits = [{ added: many, modified: [".github/workflows/deploy.yml"], removed: [] }];
    expect((await deliver("push", push, "d-push-big")).status).toBe(202);
    await cap.settled();
    const [cs] = await get().db.query<{ tier: number; file_count: number; stored: number }>(
      "select tier, file_count, jsonb_array_length(files) as stored from coord.changesets where commit_sha = $1",
      [push.after],
    );
    expect(cs).toEqual({ tier: 4, file_count: 12_001, stored: 10_000 });
  });

  it("answers before processing: the 202 arrives while processing is still blocked", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = gatewayApp(
      get().db,
      { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, GITHUB_TOKEN: "ghs_slow", GITHUB_API_URL: "http://github.invalid" },
      {
        fetch: async (input) => {
          if (String(input).includes("/commits?")) return Response.json([]);
          if (String(input).includes("/pulls/")) {
            await gate;
            return Response.json([{ filename: "src/a.ts", status: "modified" }]);
          }
          return Response.json({ id: 5 }, { status: 201 });
        },
      },
    );
    const a = slow.app;
    const pr = example("pull_request", (e) => e.action === "reopened");
    pr.pull_request.head.sha = sha("pr-slow");
    const body = JSON.stringify(pr);
    const res = await a.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders("pull_request", "d-pr-slow", body),
    });
    expect(res.status).toBe(202);
    expect(await deliveries("d-pr-slow")).toEqual([{ state: "received", attempts: 1 }]);
    release();
    await slow.settled();
    expect(await deliveries("d-pr-slow")).toEqual([{ state: "processed", attempts: 1 }]);
  });

  it("a delivery that failed is processed again when GitHub redelivers it", async () => {
    const pr = example("pull_request", (e) => e.action === "opened");
    pr.pull_request.head.sha = sha("pr-redelivery");
    prFetchFails = true;
    expect((await deliver("pull_request", pr, "d-pr-1")).status).toBe(202);
    await cap.settled();
    expect(await deliveries("d-pr-1")).toEqual([{ state: "failed", attempts: 1 }]);
    prFetchFails = false;
    expect((await deliver("pull_request", pr, "d-pr-1")).status).toBe(202);
    await cap.settled();
    expect(await deliveries("d-pr-1")).toEqual([{ state: "processed", attempts: 2 }]);
    const [cs] = await get().db.query<{ tier: number; pr_number: number }>(
      "select tier, pr_number from coord.changesets where commit_sha = $1",
      [pr.pull_request.head.sha],
    );
    expect(cs).toEqual({ tier: 2, pr_number: pr.number });
  });

  it("a pull request cannot be routed without GitHub credentials: the delivery fails (and says why) instead of under-verifying", async () => {
    const bare = gatewayApp(get().db, { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const a = bare.app;
    const pr = example("pull_request", (e) => e.action === "synchronize");
    pr.pull_request.head.sha = sha("pr-no-github");
    const body = JSON.stringify(pr);
    expect(
      (
        await a.request("/webhook/github", {
          method: "POST",
          body,
          headers: await githubHeaders("pull_request", "d-pr-bare", body),
        })
      ).status,
    ).toBe(202);
    await bare.settled();
    const [d] = await get().db.query<{ state: string; error: string }>(
      "select state, error from coord.webhook_deliveries where delivery_id = 'd-pr-bare'",
    );
    expect(d!.state).toBe("failed");
    expect(d!.error).toMatch(/GitHub credentials/);
    expect(
      await get().db.query("select 1 from coord.changesets where commit_sha = $1", [pr.pull_request.head.sha]),
    ).toHaveLength(0);
  });

  describe("agent submissions and signed callbacks", () => {
    const submit = (agent: string, body: unknown, headers = agentHeaders(agent)) =>
      app().request("/webhook/agent", { method: "POST", headers, body: JSON.stringify(body) });
    /** Headers of a database key bound to `agent`: trust counts only identities bound to their key. */
    const boundKeyHeaders = async (agent: string) => {
      const key = `bound-${agent}-key-0123456789`;
      const hash = createHash("sha256").update(key).digest("hex");
      await get().db.query("select coord.create_api_key($1, $2, $3, 'agent', 2, null)", [
        hash,
        key.slice(0, 10),
        agent,
      ]);
      return { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    };
    let migration: any;
    beforeAll(async () => {
      const res = await submit("cb-agent", {
        repo: "acme/app",
        branch: "feat",
        commit_sha: sha("cb-1"),
        files: [{ path: "supabase/migrations/0009_add.sql", status: "added", content: "select 1;" }],
      });
      expect(res.status).toBe(201);
      migration = await res.json();
    });
    const tierResult = (v: any, tier: number) => v.results.find((r: any) => r.tier === tier);
    const callback = async (resultId: string, msgId: string, payload: unknown, at?: Date, signFor = resultId) => {
      const body = JSON.stringify(payload);
      return app().request(`/webhook/callback/${resultId}`, {
        method: "POST",
        body,
        headers: await callbackHeaders(signFor, msgId, body, at),
      });
    };

    it("routes a migration to tier 2 with the reasons and the trust arithmetic", () => {
      expect(migration).toMatchObject({ tier: 2, base_tier: 2, required_tiers: [0, 1, 2], state: "pending" });
      expect(migration.decision.matches).toEqual([
        expect.objectContaining({ policy: "integration", files: ["supabase/migrations/0009_add.sql"] }),
      ]);
      expect(migration.decision.arithmetic).toMatch(/base 2 .* adjustment 0, floor 0 → tier 2/);
      expect(tierResult(migration, 0)).toMatchObject({ status: "passed", executor: "inline" });
    });

    it("a signed callback records a pass; replaying it is a no-op; bad signature, stale timestamp or another result's key is 401", async () => {
      const r2 = tierResult(migration, 2).id;
      const payload = { passed: true, commit_sha: sha("cb-1"), summary: "integration suite green" };
      const bad = await app().request(`/webhook/callback/${r2}`, {
        method: "POST",
        body: JSON.stringify(payload),
        headers: { ...(await callbackHeaders(r2, "m-1", JSON.stringify(payload))), "webhook-signature": "v1,AAAA" },
      });
      expect(bad.status).toBe(401);
      expect((await callback(r2, "m-old", payload, new Date(Date.now() - 10 * 60_000))).status).toBe(401);
      expect((await callback(r2, "m-other", payload, undefined, tierResult(migration, 1).id)).status).toBe(401);
      const ok = await callback(r2, "m-1", payload);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: "recorded", state: "pending" });
      const replay = await callback(r2, "m-1", payload);
      expect(await replay.json()).toEqual({ status: "duplicate", state: "processed" });
      const view = await (
        await app().request(`/changesets/${migration.id}`, { headers: agentHeaders("reader") })
      ).json();
      expect(tierResult(view, 2)).toMatchObject({
        status: "passed",
        reported_by: "callback",
        summary: "integration suite green",
      });
    });

    it("malformed callback bodies are 400 after the signature check", async () => {
      const r1 = tierResult(migration, 1).id;
      expect((await callback(r1, "m-bad", { passed: "yes" })).status).toBe(400);
      expect((await callback(r1, "m-bad2", { passed: true, commit_sha: "abc" })).status).toBe(400);
    });

    it("evidence: a pass reported for another commit does not count", async () => {
      const res = await submit("cb-agent", {
        repo: "acme/app",
        commit_sha: sha("cb-2"),
        files: [{ path: "src/x.ts", status: "modified" }],
      });
      const v = await res.json();
      const r = await callback(tierResult(v, 1).id, "m-wrong", { passed: true, commit_sha: sha("some-other-commit") });
      expect(await r.json()).toMatchObject({ state: "failed" });
      const after = await (await app().request(`/changesets/${v.id}`, { headers: agentHeaders("reader") })).json();
      expect(tierResult(after, 1).summary).toMatch(/not evidence/);
    });

    it("a tier-4 change waits until an admin approves it; callbacks and agents cannot complete it", async () => {
      const c = sha("tier4");
      const v = await (
        await submit("t4-agent", {
          repo: "acme/app",
          commit_sha: c,
          files: [{ path: ".github/workflows/ci.yml", status: "modified" }],
        })
      ).json();
      expect(v).toMatchObject({ tier: 4, floor_tier: 4, required_tiers: [0, 1, 2, 3, 4] });
      for (const t of [1, 2, 3])
        expect((await callback(tierResult(v, t).id, `t4-${t}`, { passed: true, commit_sha: c })).status).toBe(200);
      expect((await callback(tierResult(v, 4).id, "t4-4", { passed: true, commit_sha: c })).status).toBe(403);
      let now = await (await app().request(`/changesets/${v.id}`, { headers: agentHeaders("reader") })).json();
      expect(now.state).toBe("pending");
      expect(tierResult(now, 4).status).toBe("awaiting_approval");

      const queue = await (await app().request("/approvals", { headers: adminHeaders() })).json();
      expect(queue.approvals.map((a: any) => a.changeset_id)).toContain(v.id);
      expect((await app().request("/approvals", { headers: agentHeaders("t4-agent") })).status).toBe(403);
      const denied = await app().request(`/changesets/${v.id}/review`, {
        method: "POST",
        headers: agentHeaders("t4-agent"),
        body: JSON.stringify({ decision: "approve", note: "lgtm" }),
      });
      expect(denied.status).toBe(403);
      const approved = await app().request(`/changesets/${v.id}/review`, {
        method: "POST",
        headers: adminHeaders("alice"),
        body: JSON.stringify({ decision: "approve", note: "checked the workflow diff" }),
      });
      expect(approved.status).toBe(200);
      now = await approved.json();
      expect(now.state).toBe("verified");
      expect(tierResult(now, 4)).toMatchObject({
        status: "passed",
        reported_by: "alice",
        details: { note: "checked the workflow diff" },
      });
      const twice = await app().request(`/changesets/${v.id}/review`, {
        method: "POST",
        headers: adminHeaders("bob"),
        body: JSON.stringify({ decision: "reject", note: "late" }),
      });
      expect(twice.status).toBe(409);
    });

    it("a rejected tier-4 change is rejected", async () => {
      const v = await (
        await submit("t4-agent", {
          repo: "acme/app",
          commit_sha: sha("tier4-rej"),
          files: [{ path: ".env.production", status: "added" }],
        })
      ).json();
      const res = await app().request(`/changesets/${v.id}/review`, {
        method: "POST",
        headers: adminHeaders(),
        body: JSON.stringify({ decision: "reject", note: "no secrets in git" }),
      });
      expect((await res.json()).state).toBe("rejected");
    });

    it("an unknown changeset is 404 with what to do", async () => {
      const res = await app().request("/changesets/00000000-0000-4000-8000-000000000000", {
        headers: agentHeaders("reader"),
      });
      expect(res.status).toBe(404);
      expect((await res.json()).error.message).toMatch(/submit_changes/);
      expect((await app().request("/changesets/not-a-uuid", { headers: agentHeaders("reader") })).status).toBe(400);
    });

    it("the same commit submitted twice answers the one changeset", async () => {
      const again = await submit("cb-agent", {
        repo: "acme/app",
        commit_sha: sha("cb-1"),
        files: [{ path: "README.md", status: "modified" }],
      });
      expect(await again.json()).toMatchObject({ id: migration.id, existing: true });
    });

    it("tier 0 findings fail the change at once", async () => {
      const v = await (
        await submit("sloppy", {
          repo: "acme/app",
          commit_sha: sha("conflict"),
          files: [{ path: "a.ts", status: "modified", content: "<<<<<<< HEAD\n" }],
        })
      ).json();
      expect(v.state).toBe("failed");
      expect(tierResult(v, 0).details.findings[0]).toMatchObject({ check: "conflict_marker", path: "a.ts" });
    });

    it("trust: a reliable agent goes down one tier, never below a floor; an unreliable one goes up", async () => {
      await get().db.query(
        "insert into coord.agent_trust (agent_id, passes) values ('reliable', 40), ('flaky', 0) on conflict do nothing",
      );
      await get().db.query("update coord.agent_trust set failures = 6 where agent_id = 'flaky'");
      // Under the shared (unbound) key anyone could be "reliable": its trust lowers no tier.
      const borrowed = await (
        await submit("reliable", {
          repo: "acme/app",
          commit_sha: sha("rel-0"),
          files: [{ path: "supabase/migrations/0.sql", status: "added" }],
        })
      ).json();
      expect(borrowed).toMatchObject({ base_tier: 2, tier: 2 });
      expect(borrowed.decision.trust).toMatchObject({ adjustment: 0, unbound: true });
      const reliable = await boundKeyHeaders("reliable");
      const down = await (
        await submit(
          "reliable",
          {
            repo: "acme/app",
            commit_sha: sha("rel-1"),
            files: [{ path: "supabase/migrations/1.sql", status: "added" }],
          },
          reliable,
        )
      ).json();
      expect(down).toMatchObject({ base_tier: 2, tier: 1 });
      expect(down.decision.trust).toMatchObject({ adjustment: -1 });
      const floor = await (
        await submit(
          "reliable",
          {
            repo: "acme/app",
            commit_sha: sha("rel-2"),
            files: [{ path: "CODEOWNERS", status: "modified" }],
          },
          reliable,
        )
      ).json();
      expect(floor).toMatchObject({ base_tier: 4, floor_tier: 4, tier: 4 });
      const up = await (
        await submit("flaky", {
          repo: "acme/app",
          commit_sha: sha("flaky-1"),
          files: [{ path: "README.md", status: "modified" }],
        })
      ).json();
      expect(up).toMatchObject({ base_tier: 0, tier: 1 });
      expect(up.decision.arithmetic).toMatch(/adjustment 1/);
    });

    it("trust decays (half-life 30 days) and a revert counts against the reverted change's author", async () => {
      await get().db.query(
        "insert into coord.agent_trust (agent_id, passes, decayed_at) values ('veteran', 40, now() - interval '30 days')",
      );
      const [{ t }] = (await get().db.query<{ t: any }>("select coord.get_agent_trust('veteran') as t")) as [
        { t: any },
      ];
      expect(Number(t.passes)).toBeCloseTo(20, 1);
      const original = sha("to-be-reverted");
      await submit(
        "author",
        { repo: "acme/app", commit_sha: original, files: [{ path: "src/x.ts", status: "modified" }] },
        await boundKeyHeaders("author"),
      );
      await submit("fixer", {
        repo: "acme/app",
        commit_sha: sha("the-revert"),
        reverts_commit: original,
        files: [{ path: "src/x.ts", status: "modified" }],
      });
      const [{ a }] = (await get().db.query<{ a: any }>("select coord.get_agent_trust('author') as a")) as [{ a: any }];
      expect(Number(a.reverts)).toBeCloseTo(1, 2);
    });

    it("bad input: absurd file lists, bad repo and sha, path traversal are 400 with the field", async () => {
      const many = Array.from({ length: 10_001 }, (_, i) => ({ path: `f${i}`, status: "added" }));
      const big = await submit("x", { repo: "acme/app", commit_sha: sha("big"), files: many });
      expect([400, 413]).toContain(big.status);
      for (const [body, field] of [
        [{ repo: "not a repo", commit_sha: sha("r"), files: [{ path: "a", status: "added" }] }, "repo"],
        [{ repo: "acme/app", commit_sha: "HEAD", files: [{ path: "a", status: "added" }] }, "commit_sha"],
        [
          { repo: "acme/app", commit_sha: sha("r"), files: [{ path: "../etc/passwd", status: "added" }] },
          "files.0.path",
        ],
        [
          { repo: "acme/app", commit_sha: sha("r"), files: [{ path: "a", status: "renamed" }] },
          "files.0.previous_path",
        ],
        [{ repo: "acme/app", commit_sha: sha("r"), files: [] }, "files"],
      ] as const) {
        const res = await submit("x", body);
        expect(res.status).toBe(400);
        expect((await res.json()).error.fields[0].field).toBe(field);
      }
    });

    it("unknown repositories are refused when an allow-list is configured", async () => {
      const a = gatewayApp(get().db, { VERIFICATION_REPOS: "acme/app" }).app;
      const res = await a.request("/webhook/agent", {
        method: "POST",
        headers: agentHeaders("x"),
        body: JSON.stringify({ repo: "evil/repo", commit_sha: sha("u"), files: [{ path: "a.ts", status: "added" }] }),
      });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("unknown_repository");
      // A webhook from a repository outside the list is stored and ignored.
      const strictHooks = gatewayApp(get().db, {
        VERIFICATION_REPOS: "acme/app",
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      });
      const b = strictHooks.app;
      const push = example("push");
      Object.assign(push, { ref: "refs/heads/main", after: sha("evil-push") });
      push.commits = [{ added: ["a.ts"], modified: [], removed: [] }];
      const body = JSON.stringify(push);
      expect(
        (
          await b.request("/webhook/github", {
            method: "POST",
            body,
            headers: await githubHeaders("push", "d-evil", body),
          })
        ).status,
      ).toBe(202);
      await strictHooks.settled();
      expect(await deliveries("d-evil")).toEqual([{ state: "processed", attempts: 1 }]);
      expect(await get().db.query("select 1 from coord.changesets where commit_sha = $1", [push.after])).toHaveLength(
        0,
      );
    });

    it("MCP submit_changes and verification_status answer the same as GET /changesets/:id", async () => {
      const mcp = async (name: string, args: unknown) => {
        const res = await app().request("/mcp", {
          method: "POST",
          headers: agentHeaders("mcp-agent", { Accept: "application/json, text/event-stream" }),
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
        });
        return (await res.json()).result;
      };
      const submitted = await mcp("submit_changes", {
        repo: "acme/app",
        commit_sha: sha("mcp-1"),
        files: [{ path: "docs/a.md", status: "added" }],
      });
      expect(submitted.isError).toBeFalsy();
      expect(submitted.content[0].text).toMatch(/tier 0 \(static\); every required tier passed/);
      const id = submitted.structuredContent.id;
      const viaMcp = await mcp("verification_status", { id });
      const viaRest = await (await app().request(`/changesets/${id}`, { headers: agentHeaders("mcp-agent") })).json();
      expect(viaMcp.structuredContent).toEqual(viaRest);
      expect(viaRest.state).toBe("verified");
    });
  });
});
