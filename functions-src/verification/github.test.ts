/**
 * The gateway against local stand-ins for api.github.com and api.e2b.dev (wire contracts: github.contract.md and
 * e2b.contract.md beside this file), end to end through the work queue: submit → route → dispatch/enqueue → runner
 * claims and reports → changeset verified → check run updated.
 */
import { createVerify, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { adminHeaders, agentHeaders, forEachDatabase } from "../../test/helpers.ts";
import { callbackSecretFor } from "./signatures.ts";
import {
  CALLBACK_SECRET,
  WEBHOOK_SECRET,
  example,
  githubHeaders,
  recordingServer,
  sha,
  type Recorded,
  gatewayApp,
} from "../../test/verification.ts";

const APP_ID = "123456";
const INSTALLATION = 777;
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
// GitHub hands out App keys as PKCS#1 PEM; the client must convert it for Web Crypto.
const PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

function verifyJwt(auth: string | undefined): Record<string, number | string> {
  const jwt = /^Bearer (.+)$/.exec(auth ?? "")?.[1] ?? "";
  const [h, p, s] = jwt.split(".");
  const ok = createVerify("RSA-SHA256")
    .update(`${h}.${p}`)
    .verify(publicKey, Buffer.from(s ?? "", "base64url"));
  if (!ok) throw new Error("JWT signature does not verify");
  expect(JSON.parse(Buffer.from(h!, "base64url").toString())).toEqual({ alg: "RS256", typ: "JWT" });
  return JSON.parse(Buffer.from(p!, "base64url").toString());
}

forEachDatabase("verification against GitHub and E2B stand-ins", (get) => {
  let github: Awaited<ReturnType<typeof recordingServer>>;
  let e2b: Awaited<ReturnType<typeof recordingServer>>;
  const jwtClaims: Array<Record<string, number | string>> = [];
  let nextCheck = 9000;
  beforeAll(async () => {
    github = await recordingServer((r: Recorded) => {
      const gh =
        r.headers["x-github-api-version"] === "2022-11-28" && r.headers.accept === "application/vnd.github+json";
      if (!gh) return { status: 400, body: { message: "missing API version or accept header" } };
      if (r.method === "GET" && r.path === "/repos/acme/app/installation") {
        jwtClaims.push(verifyJwt(r.headers.authorization));
        return { status: 200, body: { id: INSTALLATION } };
      }
      if (r.method === "POST" && r.path === `/app/installations/${INSTALLATION}/access_tokens`) {
        jwtClaims.push(verifyJwt(r.headers.authorization));
        return {
          status: 201,
          body: { token: "ghs_installation_token", expires_at: new Date(Date.now() + 3600_000).toISOString() },
        };
      }
      if (r.headers.authorization !== "Bearer ghs_installation_token")
        return { status: 401, body: { message: "Bad credentials" } };
      if (r.method === "POST" && r.path === "/repos/acme/app/actions/workflows/verify.yml/dispatches")
        return { status: 204 };
      if (r.method === "POST" && r.path === "/repos/acme/app/check-runs")
        return { status: 201, body: { id: nextCheck++ } };
      if (r.method === "PATCH" && /^\/repos\/acme\/app\/check-runs\/\d+$/.test(r.path))
        return { status: 200, body: { id: Number(r.path.split("/").pop()) } };
      return undefined;
    });
    e2b = await recordingServer((r) => {
      if (r.headers["x-api-key"] !== "e2b_test_key")
        return { status: 401, body: { code: 401, message: "Invalid API key" } };
      if (r.method === "POST" && r.path === "/sandboxes")
        return {
          status: 201,
          body: {
            sandboxID: `sbx-${e2b.requests.length}`,
            templateID: r.body.templateID,
            clientID: "c1",
            envdVersion: "0.2.0",
          },
        };
      return undefined;
    });
  });
  afterAll(async () => {
    await github?.close();
    await e2b?.close();
  });

  const env = () => ({
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    VERIFICATION_CALLBACK_SECRET: CALLBACK_SECRET,
    GITHUB_API_URL: github.url,
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: PEM.replaceAll("\n", "\\n"),
  });
  const setup = (extra: Record<string, string> = {}) => {
    const gw = gatewayApp(get().db, { ...env(), ...extra });
    return { cap: gw, app: gw.app };
  };
  const submit = (app: ReturnType<typeof setup>["app"], agent: string, body: unknown) =>
    app.request("/webhook/agent", { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
  const deliver = async (app: ReturnType<typeof setup>["app"], event: string, payload: unknown, delivery: string) => {
    const body = JSON.stringify(payload);
    return app.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders(event, delivery, body),
    });
  };
  const until = async (cond: () => boolean | Promise<boolean>, what: string, settle: () => Promise<void>) => {
    for (let i = 0; i < 100; i++) {
      await settle();
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const checkRuns = (sha: string) =>
    github.requests.filter((r) => r.path.includes("/check-runs") && r.body?.head_sha === sha);

  it("end to end: migration → tier 2 on the queue → runner claims and passes; workflow_run passes tier 1 → verified, check run updated", async () => {
    const { cap, app } = setup();
    const commit = sha("e2e-migration");
    const res = await submit(app, "coder", {
      repo: "acme/app",
      branch: "feat/db",
      commit_sha: commit,
      files: [{ path: "supabase/migrations/0042_users.sql", status: "added", content: "create table t (id int);" }],
    });
    expect(res.status).toBe(201);
    const cs = await res.json();
    expect(cs).toMatchObject({ tier: 2, required_tiers: [0, 1, 2], state: "pending" });

    // Installation lookup and token, each with a valid App JWT: iss = app id, at most 10 minutes, iat back-dated.
    expect(jwtClaims.length).toBeGreaterThanOrEqual(2);
    const now = Math.floor(Date.now() / 1000);
    for (const c of jwtClaims) {
      expect(c.iss).toBe(APP_ID);
      expect(Number(c.exp) - Number(c.iat)).toBeLessThanOrEqual(600);
      expect(Number(c.iat)).toBeLessThanOrEqual(now);
    }
    const dispatch = github.requests.find((r) => r.path.endsWith("/dispatches"))!;
    expect(dispatch.body).toEqual({ ref: "feat/db", inputs: { changeset_id: cs.id, commit_sha: commit } });
    const created = checkRuns(commit).find((r) => r.method === "POST")!;
    expect(created.body).toMatchObject({
      name: "coordinator/verification",
      head_sha: commit,
      status: "in_progress",
      external_id: cs.id,
    });
    expect(created.body.output.summary).toContain(
      "policy `integration` (tier 2) matched 1 file(s): `supabase/migrations/0042_users.sql`",
    );

    // A runner takes the tier-2 job from the queue and reports a pass for this commit.
    const claim = await app.request("/work/claim", {
      method: "POST",
      headers: agentHeaders("runner-1", { "X-Session-Id": "r1" }),
      body: JSON.stringify({ task_types: ["verify:integration"] }),
    });
    const [task] = (await claim.json()).tasks;
    expect(task).toMatchObject({
      task_type: "verify:integration",
      input_data: { changeset_id: cs.id, commit_sha: commit, tier: 2 },
    });
    const done = await app.request(`/work/tasks/${task.id}/complete`, {
      method: "POST",
      headers: agentHeaders("runner-1", { "X-Session-Id": "r1" }),
      body: JSON.stringify({
        claim_token: task.claim_token,
        success: true,
        result: { passed: true, commit_sha: commit, summary: "42 integration tests passed" },
      }),
    });
    expect(done.status).toBe(200);
    // The queue's trigger records the result and announces it; the listener brings the check run up to date.
    await until(
      () =>
        checkRuns(commit).some(
          (r) => r.method === "PATCH" && r.body.output.summary.includes("tier 2 integration via queue: **passed**"),
        ),
      "check run update from the queue result",
      () => cap.settled(),
    );

    // GitHub Actions finishes: the workflow_run webhook (a real payload, pointed at this commit) passes tier 1.
    const run = example("workflow_run", (e) => e.action === "completed");
    run.repository.full_name = "acme/app";
    Object.assign(run.workflow_run, { head_sha: commit, conclusion: "success", path: ".github/workflows/verify.yml" });
    expect((await deliver(app, "workflow_run", run, "d-run-1")).status).toBe(202);

    await until(
      async () =>
        (await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json()).state ===
        "verified",
      "verified",
      () => cap.settled(),
    );
    const view = await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json();
    expect(view.results.map((r: any) => [r.tier, r.status, r.commit_sha])).toEqual([
      [0, "passed", commit],
      [1, "passed", commit],
      [2, "passed", commit],
    ]);
    expect(view.results[2].reported_by).toBe("runner-1");
    await until(
      () => checkRuns(commit).some((r) => r.method === "PATCH" && r.body.conclusion === "success"),
      "check run success",
      () => cap.settled(),
    );
    const last = checkRuns(commit)
      .filter((r) => r.method === "PATCH")
      .at(-1)!;
    expect(last.path).toBe(`/repos/acme/app/check-runs/${view.check_run_id}`);
    expect(last.body).toMatchObject({
      status: "completed",
      conclusion: "success",
      output: { title: "Tier 2: verified" },
    });
  });

  it("a failed workflow run fails the change; GitHub's re-run of a failed tier 1 dispatches the workflow again", async () => {
    const { cap, app } = setup();
    const commit = sha("e2e-fail");
    const cs = await (
      await submit(app, "coder", {
        repo: "acme/app",
        branch: "b",
        commit_sha: commit,
        files: [{ path: "src/a.ts", status: "modified" }],
      })
    ).json();
    expect(cs.tier).toBe(1);
    const run = example("workflow_run", (e) => e.action === "completed");
    run.repository.full_name = "acme/app";
    Object.assign(run.workflow_run, { head_sha: commit, conclusion: "failure", path: ".github/workflows/verify.yml" });
    await deliver(app, "workflow_run", run, "d-run-fail");
    await until(
      async () =>
        (await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json()).state ===
        "failed",
      "failed",
      () => cap.settled(),
    );
    const dispatches = () =>
      github.requests.filter((r) => r.path.endsWith("/dispatches") && r.body.inputs.commit_sha === commit).length;
    expect(dispatches()).toBe(1);
    const rerun = example("check_run", (e) => e.action === "rerequested");
    rerun.repository.full_name = "acme/app";
    Object.assign(rerun.check_run, { name: "coordinator/verification", head_sha: commit });
    await deliver(app, "check_run", rerun, "d-rerun");
    await until(
      () => dispatches() === 2,
      "second dispatch",
      () => cap.settled(),
    );
    const view = await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json();
    expect(view.state).toBe("pending");
    expect(view.results[1].status).toBe("running");
  });

  it("tier 4: the check run offers Approve; GitHub's requested_action approves it (only then is it verified)", async () => {
    const { cap, app } = setup();
    const commit = sha("e2e-tier4");
    const cs = await (
      await submit(app, "coder", {
        repo: "acme/app",
        branch: "ci",
        commit_sha: commit,
        files: [{ path: ".github/workflows/ci.yml", status: "modified", content: "on: push\n" }],
      })
    ).json();
    expect(cs.tier).toBe(4);
    const created = checkRuns(commit).find((r) => r.method === "POST")!;
    expect(created.body.actions.map((a: any) => a.identifier)).toEqual(["approve", "reject"]);
    // Tiers 1–3 pass through their executors' paths.
    await app.request(`/changesets/${cs.id}`, { headers: adminHeaders() });
    for (const type of ["verify:integration", "verify:system"]) {
      const [task] = (
        await (
          await app.request("/work/claim", {
            method: "POST",
            headers: agentHeaders("runner-2", { "X-Session-Id": "r2" }),
            body: JSON.stringify({ task_types: [type] }),
          })
        ).json()
      ).tasks;
      await app.request(`/work/tasks/${task.id}/complete`, {
        method: "POST",
        headers: agentHeaders("runner-2", { "X-Session-Id": "r2" }),
        body: JSON.stringify({
          claim_token: task.claim_token,
          success: true,
          result: { passed: true, commit_sha: commit },
        }),
      });
    }
    const run = example("workflow_run", (e) => e.action === "completed");
    run.repository.full_name = "acme/app";
    Object.assign(run.workflow_run, { head_sha: commit, conclusion: "success", path: ".github/workflows/verify.yml" });
    await deliver(app, "workflow_run", run, "d-run-t4");
    await cap.settled();
    let view = await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json();
    expect(view.state).toBe("pending");
    expect(view.results.map((r: any) => r.status)).toEqual([
      "passed",
      "passed",
      "passed",
      "passed",
      "awaiting_approval",
    ]);

    const action = example("check_run", (e) => e.action === "requested_action");
    action.repository.full_name = "acme/app";
    Object.assign(action.check_run, { name: "coordinator/verification", head_sha: commit });
    action.requested_action = { identifier: "approve" };
    await deliver(app, "check_run", action, "d-approve");
    await until(
      async () =>
        (await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json()).state ===
        "verified",
      "approved",
      () => cap.settled(),
    );
    view = await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json();
    expect(view.results[4]).toMatchObject({ status: "passed", reported_by: `github:${action.sender.login}` });
  });

  it("E2B: tier 2 starts a sandbox with the job and its own callback key; the sandbox's signed callback completes it", async () => {
    const { cap, app } = setup({
      E2B_API_KEY: "e2b_test_key",
      E2B_API_URL: e2b.url,
      VERIFICATION_PUBLIC_URL: "https://coordinator.example",
    });
    const commit = sha("e2e-e2b");
    const cs = await (
      await submit(app, "coder", {
        repo: "acme/app",
        branch: "deps",
        commit_sha: commit,
        files: [{ path: "package.json", status: "modified" }],
      })
    ).json();
    const r2 = cs.results.find((r: any) => r.tier === 2);
    expect(r2).toMatchObject({ executor: "e2b", status: "running", external_id: "sbx-1" });
    const [req] = e2b.requests;
    expect(req).toMatchObject({ method: "POST", path: "/sandboxes" });
    expect(req!.body).toMatchObject({
      templateID: "coordinator-verify",
      timeout: 3600,
      metadata: { changeset_id: cs.id, result_id: r2.id, commit_sha: commit },
      envVars: {
        VERIFY_REPO: "acme/app",
        VERIFY_COMMIT_SHA: commit,
        VERIFY_CALLBACK_URL: `https://coordinator.example/webhook/callback/${r2.id}`,
      },
    });
    const secret = req!.body.envVars.VERIFY_CALLBACK_SECRET;
    expect(secret).toBe(await callbackSecretFor(CALLBACK_SECRET, r2.id));
    expect(secret).not.toBe(CALLBACK_SECRET);

    // What the sandbox does when it finishes: sign with the key it was given.
    const body = JSON.stringify({ passed: true, commit_sha: commit, summary: "sandbox: all green" });
    const at = new Date();
    const res = await app.request(`/webhook/callback/${r2.id}`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": "msg_sbx_1",
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(secret).sign("msg_sbx_1", at, body),
      },
    });
    expect(res.status).toBe(200);
    await cap.settled();
    const view = await (await app.request(`/changesets/${cs.id}`, { headers: agentHeaders("coder") })).json();
    expect(view.results[2]).toMatchObject({ status: "passed", summary: "sandbox: all green" });
  });

  it("E2B refusing the key leaves the tier pending with the reason", async () => {
    const { app } = setup({
      E2B_API_KEY: "wrong",
      E2B_API_URL: e2b.url,
      VERIFICATION_PUBLIC_URL: "https://coordinator.example",
    });
    const cs = await (
      await submit(app, "coder", {
        repo: "acme/app",
        commit_sha: sha("e2b-bad"),
        files: [{ path: "go.mod", status: "modified" }],
      })
    ).json();
    expect(cs.results[2]).toMatchObject({ executor: "e2b", status: "pending" });
    expect(cs.results[2].summary).toMatch(/E2B POST \/sandboxes answered 401: Invalid API key/);
  });
});
