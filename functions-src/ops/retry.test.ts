import { expect, it } from "vitest";
import { agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/**
 * After an unknown outcome (a 503, a dropped connection) every mutating operation may be sent again unchanged: the
 * second call changes nothing more and answers what the first did (docs/OPERATIONS.md lists the rule per operation).
 * Each case here sends the same call twice, as a client retrying a call that did take effect.
 */
forEachDatabase("mutating operations are safe to retry", (get) => {
  const post = async (path: string, body: unknown, agent = "retrier") => {
    const res = await testApp(get().db).app.request(path, {
      method: "POST",
      headers: agentHeaders(agent, { "X-Session-Id": `${agent}-s` }),
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const twice = async (path: string, body: unknown, agent?: string) =>
    [await post(path, body, agent), await post(path, body, agent)] as const;
  const count = async (sql: string, params: unknown[]) =>
    Number((await get().db.query<{ n: string }>(sql, params))[0]!.n);

  it("acquire_lock: the same grant, token kept; release_lock: released once", async () => {
    const [a, b] = await twice("/locks/acquire", { file_path: "retry/a.ts" });
    expect(b.body.locks[0]).toMatchObject({ token: a.body.locks[0].token, refreshed: true });
    const [r1, r2] = await twice("/locks/release", { file_path: "retry/a.ts" });
    expect(r1.body.released).toHaveLength(1);
    expect(r2.status).toBe(200);
    expect(r2.body.released).toHaveLength(0);
  });

  it("submit_work with an idempotency_key: one task", async () => {
    const type = `retry-${Date.now()}`;
    const [a, b] = await twice("/work/tasks", { task_type: type, idempotency_key: "once" });
    expect(b.body).toMatchObject({ id: a.body.id, deduplicated: true });
    expect(await count("select count(*) as n from coord.tasks where task_type = $1", [type])).toBe(1);
  });

  it("complete_work with the claim token: completed once, the retry answers the state it left", async () => {
    const type = `retry-c-${Date.now()}`;
    await post("/work/tasks", { task_type: type });
    const t = (await post("/work/claim", { task_types: [type] }, "retry-worker")).body.tasks[0];
    const body = { claim_token: t.claim_token, success: true, result: { ok: 1 } };
    const [a, b] = await twice(`/work/tasks/${t.id}/complete`, body, "retry-worker");
    expect(a.body).toMatchObject({ ok: true, status: "completed" });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ ok: true, status: "completed", replayed: true });
    expect(
      await count("select count(*) as n from coord.events where kind = 'task.completed' and subject = $1", [t.id]),
    ).toBe(1);
  });

  it("complete_work reporting a failure with attempts left, with the claim token: the retry answers the state it left", async () => {
    const type = `retry-f-${Date.now()}`;
    await post("/work/tasks", { task_type: type, max_attempts: 3 });
    const t = (await post("/work/claim", { task_types: [type] }, "retry-failer")).body.tasks[0];
    const body = { claim_token: t.claim_token, success: false, error_message: "flaky network" };
    const [a, b] = await twice(`/work/tasks/${t.id}/complete`, body, "retry-failer");
    expect(a.body).toMatchObject({ ok: true, status: "pending", attempts: 1 });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ ok: true, status: "pending", attempts: 1, replayed: true });
    expect(
      await count("select count(*) as n from coord.events where kind = 'task.retry_scheduled' and subject = $1", [
        t.id,
      ]),
    ).toBe(1);
    // A lost lease with the same token is not a report: a late completion is still refused.
    const type2 = `retry-l-${Date.now()}`;
    await post("/work/tasks", { task_type: type2 });
    const u = (await post("/work/claim", { task_types: [type2], lease_seconds: 10 }, "retry-loser")).body.tasks[0];
    await get().db.query("update coord.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [u.id]);
    const late = await post(
      `/work/tasks/${u.id}/complete`,
      { claim_token: u.claim_token, success: false },
      "retry-loser",
    );
    expect(late.status).toBe(409);
    const again = await post(
      `/work/tasks/${u.id}/complete`,
      { claim_token: u.claim_token, success: false },
      "retry-loser",
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("lease_lost");
  });

  it("get_work with an idempotency_key: the retry answers the tasks the first claim took, claims no more", async () => {
    const type = `retry-g-${Date.now()}`;
    await post("/work/tasks", { task_type: type });
    await post("/work/tasks", { task_type: type });
    const body = { task_types: [type], idempotency_key: "claim-1" };
    const [a, b] = await twice("/work/claim", body, "retry-claimer");
    expect(a.body.tasks).toHaveLength(1);
    expect(b.body.tasks.map((t: any) => [t.id, t.claim_token])).toEqual(
      a.body.tasks.map((t: any) => [t.id, t.claim_token]),
    );
    expect(
      await count("select count(*) as n from coord.tasks where task_type = $1 and status = 'claimed'", [type]),
    ).toBe(1);
    // Another key is another claim.
    expect(
      (await post("/work/claim", { ...body, idempotency_key: "claim-2" }, "retry-claimer")).body.tasks,
    ).toHaveLength(1);
  });

  it("cancel_work: cancelled once, the retry answers cancelled", async () => {
    const id = (await post("/work/tasks", { task_type: `retry-x-${Date.now()}` })).body.id;
    const [a, b] = await twice(`/work/tasks/${id}/cancel`, { reason: "no longer needed" });
    expect(a.body.status).toBe("cancelled");
    expect(b.body).toMatchObject({ status: "cancelled", replayed: true });
  });

  it("remember: one memory (the retry counts as an occurrence); report_skill_outcome with a key: counted once", async () => {
    const [a, b] = await twice("/memory", { summary: `retried memory ${Date.now()}` });
    expect(b.body).toMatchObject({ id: a.body.id, status: "deduplicated" });
    await post("/memory", { layer: "procedural", name: "retry-skill", summary: "how to retry", steps: ["again"] });
    const [s1, s2] = await twice("/memory/skills/outcome", {
      name: "retry-skill",
      outcome: "success",
      idempotency_key: "run-1",
    });
    expect(s2.body).toMatchObject({ successes: s1.body.successes, deduplicated: true });
    const other = await post("/memory/skills/outcome", {
      name: "retry-skill",
      outcome: "success",
      idempotency_key: "run-2",
    });
    expect(other.body.successes).toBe(s1.body.successes + 1);
  });

  it("submit_changes: one changeset per commit, the retry answers it", async () => {
    const body = { repo: "acme/retry", commit_sha: "e".repeat(40), files: [{ path: "README.md", status: "modified" }] };
    const [a, b] = await twice("/webhook/agent", body);
    expect(b.body).toMatchObject({ id: a.body.id, existing: true });
  });
});
