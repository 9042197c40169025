import { expect, it } from "vitest";
import { adminHeaders, agentHeaders, BOUND_AGENT, boundHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/** Each test uses its own task types, so tasks left by one test are never claimed by another. */
let seq = 0;
const uniqueType = (name: string) => `${name}-${++seq}-${Math.random().toString(36).slice(2, 7)}`;

forEachDatabase("work queue", (get) => {
  const app = () => testApp(get().db).app;
  const call = async (
    method: string,
    path: string,
    agent: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await app().request(path, {
      method,
      headers: { ...agentHeaders(agent), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const submit = (agent: string, task: Record<string, unknown>) => call("POST", "/work/tasks", agent, task);
  const claim = (agent: string, input: Record<string, unknown>, headers?: Record<string, string>) =>
    call("POST", "/work/claim", agent, input, headers);
  const complete = (agent: string, id: string, input: Record<string, unknown>) =>
    call("POST", `/work/tasks/${id}/complete`, agent, input);
  const inspect = async (id: string) => (await call("GET", `/work/tasks/${id}`, "observer")).body;
  const sql = <T = any>(text: string, params: unknown[] = []) => get().db.query<T>(text, params);

  it("submit → claim → complete: token, lease, result, events", async () => {
    const type = uniqueType("life");
    const s = await submit("orch", {
      task_type: type,
      task_description: "build it",
      input_data: { n: 1 },
      priority: 3,
    });
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ status: "pending", deduplicated: false, pending_deps: 0 });
    const c = await claim("worker-1", { task_types: [type] });
    expect(c.status).toBe(200);
    const [t] = c.body.tasks;
    expect(t).toMatchObject({
      id: s.body.id,
      status: "claimed",
      claimed_by: "worker-1",
      attempts: 1,
      input_data: { n: 1 },
    });
    expect(t.claim_token).toBeGreaterThan(0);
    const leaseMs = Date.parse(t.lease_expires_at) - Date.now();
    expect(leaseMs).toBeGreaterThan(9 * 60_000);
    expect((await claim("worker-2", { task_types: [type] })).body.tasks).toEqual([]);
    const done = await complete("worker-1", t.id, { claim_token: t.claim_token, success: true, result: { pr: 7 } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ ok: true, status: "completed" });
    expect(await inspect(t.id)).toMatchObject({
      status: "completed",
      result: { pr: 7 },
      claimed_by: null,
      attempts: 1,
    });
    const events = await sql<{ kind: string }>("select kind from coord.events where subject = $1 order by id", [t.id]);
    expect(events.map((e) => e.kind)).toEqual(["task.submitted", "task.claimed", "task.completed"]);
  });

  it("claims the most urgent first, oldest first within a priority; limit claims a batch; task_types filters", async () => {
    const type = uniqueType("order");
    const ids: Record<string, string> = {};
    for (const [name, priority] of [
      ["p5a", 5],
      ["p1", 1],
      ["p5b", 5],
      ["p9", 9],
      ["p3", 3],
    ] as const) {
      ids[name] = (await submit("orch", { task_type: type, priority })).body.id;
    }
    expect((await claim("w", { task_types: [uniqueType("other")] })).body.tasks).toEqual([]);
    const first = await claim("w", { task_types: [type] });
    expect(first.body.tasks.map((t: any) => t.id)).toEqual([ids.p1]);
    const batch = await claim("w", { task_types: [type], limit: 3 });
    expect(batch.body.tasks.map((t: any) => t.id)).toEqual([ids.p3, ids.p5a, ids.p5b]);
    const tokens = batch.body.tasks.map((t: any) => t.claim_token);
    expect(new Set(tokens).size).toBe(3);
    expect(tokens.every((tok: number) => tok > first.body.tasks[0].claim_token)).toBe(true);
  });

  it("dependencies: a chain and a diamond release in order", async () => {
    const type = uniqueType("deps");
    // a → b → d and a → c → d (diamond), plus e after d (chain)
    const b = await call("POST", "/work/tasks/batch", "orch", {
      tasks: [
        { task_type: type, task_description: "a" },
        { task_type: type, task_description: "b", depends_on: [0] },
        { task_type: type, task_description: "c", depends_on: [0] },
        { task_type: type, task_description: "d", depends_on: [1, 2] },
      ],
    });
    expect(b.status).toBe(201);
    const [a, bb, c, d] = b.body.tasks.map((t: any) => t.id);
    const e = (await submit("orch", { task_type: type, task_description: "e", depends_on: [d] })).body;
    expect(e.pending_deps).toBe(1);
    const order: string[] = [];
    for (;;) {
      const got = (await claim("w", { task_types: [type], limit: 10 })).body.tasks;
      if (got.length === 0) break;
      for (const t of got) {
        order.push(t.task_description);
        expect((await complete("w", t.id, { claim_token: t.claim_token, success: true })).status).toBe(200);
      }
    }
    expect(order[0]).toBe("a");
    expect(order.slice(1, 3).sort()).toEqual(["b", "c"]);
    expect(order.slice(3)).toEqual(["d", "e"]);
    for (const id of [a, bb, c, d, e.id]) expect((await inspect(id)).status).toBe("completed");
  });

  it("a failed dependency fails its dependents, transitively, naming the cause", async () => {
    const type = uniqueType("depfail");
    const root = (await submit("orch", { task_type: type, max_attempts: 1 })).body.id;
    const child = (await submit("orch", { task_type: type, depends_on: [root] })).body.id;
    const grandchild = (await submit("orch", { task_type: type, depends_on: [child] })).body.id;
    const [t] = (await claim("w", { task_types: [type] })).body.tasks;
    expect(t.id).toBe(root);
    const r = await complete("w", root, {
      claim_token: t.claim_token,
      success: false,
      error_message: "compiler exploded",
    });
    expect(r.body.status).toBe("failed");
    for (const id of [child, grandchild]) {
      const task = await inspect(id);
      expect(task.status).toBe("failed");
      expect(task.error_message).toContain(root);
      expect(task.error_message).toContain("compiler exploded");
    }
    // A new task on a failed dependency fails at once instead of waiting forever.
    const late = await submit("orch", { task_type: type, depends_on: [root] });
    expect(late.body.status).toBe("failed");
    expect((await inspect(late.body.id)).error_message).toContain(root);
  });

  it("refuses unknown dependencies (404) and cycles (400), storing nothing", async () => {
    const type = uniqueType("cycle");
    const unknown = await submit("orch", { task_type: type, depends_on: ["00000000-0000-4000-8000-000000000000"] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_dependency");
    const cycle = await call("POST", "/work/tasks/batch", "orch", {
      tasks: [
        { task_type: type, depends_on: [2] },
        { task_type: type, depends_on: [0] },
        { task_type: type, depends_on: [1] },
      ],
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.code).toBe("dependency_cycle");
    const self = await submit("orch", { task_type: type, depends_on: [0] });
    expect(self.body.error.code).toBe("dependency_cycle");
    const outOfBatch = await submit("orch", { task_type: type, depends_on: [5] });
    expect(outOfBatch.body.error.code).toBe("unknown_dependency");
    expect(await sql("select 1 from coord.tasks where task_type = $1", [type])).toHaveLength(0);
  });

  it("retries with exponential backoff until max_attempts, then dead-letters the task", async () => {
    const type = uniqueType("retry");
    const id = (await submit("orch", { task_type: type, max_attempts: 3, retry_backoff_seconds: 30 })).body.id;
    let [t] = (await claim("w", { task_types: [type] })).body.tasks;
    let r = await complete("w", id, { claim_token: t.claim_token, success: false, error_message: "flaky 1" });
    expect(r.body).toMatchObject({ ok: true, status: "pending", attempts: 1 });
    const backoff1 = (Date.parse(r.body.not_before) - Date.now()) / 1000;
    expect(backoff1).toBeGreaterThan(25);
    expect(backoff1).toBeLessThanOrEqual(30);
    // Not claimable during the backoff.
    expect((await claim("w", { task_types: [type] })).body.tasks).toEqual([]);
    await sql("update coord.tasks set not_before = now() where id = $1", [id]); // the backoff elapses
    [t] = (await claim("w", { task_types: [type] })).body.tasks;
    expect(t.attempts).toBe(2);
    r = await complete("w", id, { claim_token: t.claim_token, success: false, error_message: "flaky 2" });
    const backoff2 = (Date.parse(r.body.not_before) - Date.now()) / 1000;
    expect(backoff2).toBeGreaterThan(55); // doubled
    await sql("update coord.tasks set not_before = now() where id = $1", [id]);
    [t] = (await claim("w", { task_types: [type] })).body.tasks;
    r = await complete("w", id, { claim_token: t.claim_token, success: false, error_message: "flaky 3" });
    expect(r.body).toMatchObject({ status: "failed", attempts: 3 });
    expect(await inspect(id)).toMatchObject({ status: "failed", error_message: "flaky 3", attempts: 3 });
    const dead = await call("GET", `/work/tasks?status=failed&task_type=${type}`, "observer");
    expect(dead.body.tasks.map((x: any) => x.id)).toEqual([id]);
  });

  it("an expired lease returns the task to the queue; the late completion is refused and changes nothing", async () => {
    const type = uniqueType("lease");
    const id = (await submit("orch", { task_type: type })).body.id;
    const [old] = (await claim("slow", { task_types: [type], lease_seconds: 10 }, { "X-Session-Id": "slow-s" })).body
      .tasks;
    await sql("update coord.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [id]); // time passes
    const [fresh] = (await claim("fast", { task_types: [type] })).body.tasks;
    expect(fresh).toMatchObject({ id, claimed_by: "fast", attempts: 2, lease_lost_by: "slow" });
    expect(fresh.claim_token).toBeGreaterThan(old.claim_token);
    const late = await complete("slow", id, { claim_token: old.claim_token, success: true, result: { v: "stale" } });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "lease_lost", claimed_by: "fast" });
    expect(late.body.error.message).toMatch(/get_work/);
    const noToken = await complete("slow", id, { success: true });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.code).toBe("not_claimant");
    expect(await inspect(id)).toMatchObject({ status: "claimed", claimed_by: "fast", attempts: 2, result: null });
    expect(
      (await complete("fast", id, { claim_token: fresh.claim_token, success: true, result: { v: "good" } })).status,
    ).toBe(200);
    const after = await complete("slow", id, { claim_token: old.claim_token, success: true, result: { v: "stale" } });
    expect(after.body.error.code).toBe("already_completed");
    expect(await inspect(id)).toMatchObject({ status: "completed", result: { v: "good" }, attempts: 2 });
    const released = await sql("select data from coord.events where subject = $1 and kind = 'task.released'", [id]);
    expect(released).toEqual([{ data: { reason: "lease expired", attempts: 1, lost_by: "slow" } }]);
  });

  it("an expired lease that has no attempts left dead-letters the task", async () => {
    const type = uniqueType("lease-dead");
    const id = (await submit("orch", { task_type: type, max_attempts: 1 })).body.id;
    const [t] = (await claim("w", { task_types: [type] })).body.tasks;
    await sql("update coord.tasks set lease_expires_at = now() - interval '1 second' where id = $1", [id]);
    const late = await complete("w", id, { claim_token: t.claim_token, success: true });
    expect(late.body.error.code).toBe("lease_lost");
    expect(await inspect(id)).toMatchObject({ status: "failed", lease_lost_by: "w" });
  });

  it("the session heartbeat and renew_work extend the lease; ending the session releases the claim", async () => {
    const type = uniqueType("hb");
    const h = { "X-Session-Id": "hb-session" };
    const id = (await submit("orch", { task_type: type })).body.id;
    const [t] = (await claim("hb-worker", { task_types: [type], lease_seconds: 60 }, h)).body.tasks;
    await sql("update coord.tasks set lease_expires_at = now() + interval '5 seconds' where id = $1", [id]);
    expect((await call("POST", "/sessions/heartbeat", "hb-worker", {}, h)).status).toBe(200);
    let task = await inspect(id);
    expect(Date.parse(task.lease_expires_at) - Date.now()).toBeGreaterThan(50_000);
    // A heartbeating session's claim never outlives the session's liveness: a long renewal stops at live_until.
    const renewed = await call("POST", `/work/tasks/${id}/renew`, "hb-worker", {
      claim_token: t.claim_token,
      lease_seconds: 900,
    });
    expect(renewed.status).toBe(200);
    const [{ ms }] = await sql(
      "select floor(extract(epoch from live_until) * 1000)::float8 as ms from coord.sessions where session_id = 'hb-session'",
    );
    expect(Date.parse(renewed.body.lease_expires_at)).toBe(ms);
    expect(Date.parse(renewed.body.lease_expires_at) - Date.now()).toBeGreaterThan(60_000);
    const foreign = await call("POST", `/work/tasks/${id}/renew`, "intruder", {});
    expect(foreign.status).toBe(403);
    expect((await call("POST", "/sessions/end", "hb-worker", {}, h)).status).toBe(200);
    task = await inspect(id);
    expect(task).toMatchObject({ status: "pending", claimed_by: null, lease_lost_by: "hb-worker" });
    const late = await complete("hb-worker", id, { claim_token: t.claim_token, success: true });
    expect(late.body.error.code).toBe("lease_lost");
  });

  it("deadlines: a task past its deadline is not claimed and fails, and so do its dependents", async () => {
    const type = uniqueType("deadline");
    const id = (await submit("orch", { task_type: type, deadline: new Date(Date.now() + 60_000).toISOString() })).body
      .id;
    const dep = (await submit("orch", { task_type: type, depends_on: [id] })).body.id;
    await sql("update coord.tasks set deadline = now() - interval '1 second' where id = $1", [id]);
    expect((await claim("w", { task_types: [type] })).body.tasks).toEqual([]);
    expect(await inspect(id)).toMatchObject({ status: "failed", error_message: expect.stringMatching(/deadline/) });
    expect((await inspect(dep)).error_message).toContain(id);
  });

  it("idempotency key: the same key returns the same task", async () => {
    const type = uniqueType("idem");
    const a = await submit("orch", { task_type: type, idempotency_key: "feature-42/step-1" });
    const b = await submit("orch", { task_type: type, idempotency_key: "feature-42/step-1" });
    expect(b.body).toMatchObject({ id: a.body.id, deduplicated: true });
    const other = await submit("other-orch", { task_type: type, idempotency_key: "feature-42/step-1" });
    expect(other.body.id).not.toBe(a.body.id);
  });

  it("eligibility: reviews exclude their submitter; required agent type and capabilities", async () => {
    const type = uniqueType("elig");
    const review = (await submit("author", { task_type: type, exclude_submitter: true })).body.id;
    expect((await claim("author", { task_types: [type] })).body.tasks).toEqual([]);
    // A review needs a reviewer whose id is bound to its key: with the shared key, anyone could claim it as "reviewer".
    expect((await claim("reviewer", { task_types: [type] })).body.tasks).toEqual([]);
    expect((await claim(BOUND_AGENT, { task_types: [type] }, boundHeaders())).body.tasks[0].id).toBe(review);
    const typed = (
      await submit("orch", { task_type: type, required_agent_type: "codex", required_capabilities: ["rust", "gpu"] })
    ).body.id;
    expect(
      (await claim("w", { task_types: [type], capabilities: ["rust", "gpu"] }, { "X-Agent-Type": "claude_code" })).body
        .tasks,
    ).toEqual([]);
    expect(
      (await claim("w", { task_types: [type], capabilities: ["rust"] }, { "X-Agent-Type": "codex" })).body.tasks,
    ).toEqual([]);
    const ok = await claim(
      "w",
      { task_types: [type], capabilities: ["gpu", "rust", "go"] },
      { "X-Agent-Type": "codex" },
    );
    expect(ok.body.tasks[0].id).toBe(typed);
  });

  it("cancel: submitter or admin only; the claimant's completion is refused; dependents fail", async () => {
    const type = uniqueType("cancel");
    const id = (await submit("orch", { task_type: type })).body.id;
    const dep = (await submit("orch", { task_type: type, depends_on: [id] })).body.id;
    const [t] = (await claim("w", { task_types: [type] })).body.tasks;
    const stranger = await call("POST", `/work/tasks/${id}/cancel`, "stranger", { reason: "mine now" });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.code).toBe("not_submitter");
    const ok = await call("POST", `/work/tasks/${id}/cancel`, "orch", { reason: "spec changed" });
    expect(ok.body).toMatchObject({ status: "cancelled", dependents_failed: 1 });
    const late = await complete("w", id, { claim_token: t.claim_token, success: true });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("cancelled");
    expect((await inspect(dep)).error_message).toMatch(new RegExp(`${id}.*cancelled`));
    const other = (await submit("orch", { task_type: type })).body.id;
    const admin = await app().request(`/work/tasks/${other}/cancel`, {
      method: "POST",
      headers: adminHeaders("op"),
      body: "{}",
    });
    expect(admin.status).toBe(200);
    // Cancelling again (a retry) answers the state asked for and changes nothing.
    const again = await call("POST", `/work/tasks/${other}/cancel`, "orch", {});
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ task_id: other, status: "cancelled", dependents_failed: 0, replayed: true });
  });

  it("batch completion answers per item in the caller's order", async () => {
    const type = uniqueType("bcomplete");
    for (let i = 0; i < 4; i++) await submit("orch", { task_type: type });
    const tasks = (await claim("w", { task_types: [type], limit: 4 })).body.tasks;
    const items = tasks.map((t: any) => ({ task_id: t.id, claim_token: t.claim_token, success: true })).reverse();
    // The same report again (a retry) is answered with the state it left; without the token it cannot be told apart.
    items.push({ task_id: tasks[0].id, claim_token: tasks[0].claim_token, success: true });
    items.push({ task_id: tasks[1].id, success: true });
    const r = await call("POST", "/work/complete", "w", { completions: items });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => x.task_id)).toEqual(items.map((x: any) => x.task_id));
    expect(r.body.results.slice(0, 4).every((x: any) => x.ok)).toBe(true);
    expect(r.body.results[4]).toMatchObject({ ok: true, status: "completed", replayed: true });
    expect(r.body.results[5]).toMatchObject({ ok: false, code: "already_completed" });
  });

  it("list and depth are bounded and per status and type", async () => {
    const type = uniqueType("depth");
    for (let i = 0; i < 3; i++) await submit("orch", { task_type: type });
    const depth = await call("GET", "/work/depth", "observer");
    expect(depth.body.by_status_type).toContainEqual({ status: "pending", task_type: type, count: 3 });
    const list = await call("GET", `/work/tasks?task_type=${type}&limit=2`, "observer");
    expect(list.body.tasks).toHaveLength(2);
    expect(list.body.tasks[0]).not.toHaveProperty("input_data");
    expect((await call("GET", "/work/tasks?limit=201", "observer")).status).toBe(400);
  });

  it("wait_seconds: a waiting worker is woken by a submit, not by its timeout", async () => {
    const type = uniqueType("wait");
    const waiting = claim("waiter", { task_types: [type], wait_seconds: 15 });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const id = (await submit("orch", { task_type: type })).body.id;
    const got = await waiting;
    expect(got.body.tasks[0].id).toBe(id);
    expect(Date.now() - t0).toBeLessThan(1500);
    const empty = await claim("waiter", { task_types: [uniqueType("none")], wait_seconds: 1 });
    expect(empty.body.tasks).toEqual([]);
    expect(empty.body.waited_ms).toBeGreaterThanOrEqual(950);
  });

  it("bad input: every field out of range or of the wrong type is a 400 naming the field", async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["/work/tasks", {}, "task_type"],
      ["/work/tasks", { task_type: "has spaces" }, "task_type"],
      ["/work/tasks", { task_type: "x".repeat(65) }, "task_type"],
      ["/work/tasks", { task_type: "t", priority: 0 }, "priority"],
      ["/work/tasks", { task_type: "t", priority: 11 }, "priority"],
      ["/work/tasks", { task_type: "t", priority: 2.5 }, "priority"],
      ["/work/tasks", { task_type: "t", priority: "1" }, "priority"],
      ["/work/tasks", { task_type: "t", task_description: 5 }, "task_description"],
      ["/work/tasks", { task_type: "t", task_description: "x".repeat(10_001) }, "task_description"],
      ["/work/tasks", { task_type: "t", input_data: { blob: "x".repeat(70_000) } }, "input_data"],
      // JSON objects only: a client that sends the JSON as a string is refused, not stored as a string.
      ["/work/tasks", { task_type: "t", input_data: '{"pr":1}' }, "input_data"],
      ["/work/tasks", { task_type: "t", input_data: [1, 2] }, "input_data"],
      ["/work/tasks", { task_type: "t", depends_on: ["not-a-uuid"] }, "depends_on"],
      ["/work/tasks", { task_type: "t", depends_on: "abc" }, "depends_on"],
      ["/work/tasks", { task_type: "t", depends_on: Array.from({ length: 101 }, () => 0) }, "depends_on"],
      ["/work/tasks", { task_type: "t", deadline: "tomorrow" }, "deadline"],
      ["/work/tasks", { task_type: "t", max_attempts: 0 }, "max_attempts"],
      ["/work/tasks", { task_type: "t", max_attempts: 21 }, "max_attempts"],
      ["/work/tasks", { task_type: "t", idempotency_key: "" }, "idempotency_key"],
      ["/work/tasks", { task_type: "t", required_capabilities: "rust" }, "required_capabilities"],
      ["/work/tasks", { task_type: "t", exclude_submitter: "yes" }, "exclude_submitter"],
      ["/work/tasks/batch", { tasks: [] }, "tasks"],
      ["/work/tasks/batch", { tasks: Array.from({ length: 201 }, () => ({ task_type: "t" })) }, "tasks"],
      ["/work/claim", { limit: 0 }, "limit"],
      ["/work/claim", { limit: 101 }, "limit"],
      ["/work/claim", { wait_seconds: 21 }, "wait_seconds"],
      ["/work/claim", { task_types: "build" }, "task_types"],
      ["/work/claim", { lease_seconds: 5 }, "lease_seconds"],
      ["/work/tasks/00000000-0000-4000-8000-000000000000/complete", {}, "success"],
      ["/work/tasks/00000000-0000-4000-8000-000000000000/complete", { success: true, claim_token: -1 }, "claim_token"],
      [
        "/work/tasks/00000000-0000-4000-8000-000000000000/complete",
        { success: true, result: { blob: "x".repeat(70_000) } },
        "result",
      ],
      ["/work/tasks/00000000-0000-4000-8000-000000000000/complete", { success: true, result: "done" }, "result"],
      ["/work/tasks/nope/complete", { success: true }, "task_id"],
      ["/work/complete", { completions: [] }, "completions"],
    ];
    for (const [path, body, field] of cases) {
      const r = await call("POST", path, "bad-input", body);
      expect({ path, body: JSON.stringify(body).slice(0, 60), status: r.status }).toMatchObject({ status: 400 });
      expect(r.body.error.fields.map((f: any) => f.field.split(".")[0])).toContain(field);
      expect(r.body.error.message).toContain(field);
    }
    const unknown = await complete("bad-input", "00000000-0000-4000-8000-000000000000", { success: true });
    expect(unknown.status).toBe(404);
    expect((await call("GET", "/work/tasks/00000000-0000-4000-8000-000000000000", "x")).status).toBe(404);
    const cancelUnknown = await call("POST", "/work/tasks/00000000-0000-4000-8000-000000000000/cancel", "x", {});
    expect(cancelUnknown.status).toBe(404);
  });

  it("MCP: submit_work, get_work, complete_work and the work://pending resource", async () => {
    const type = uniqueType("mcp");
    let id = 0;
    const rpc = async (agent: string, method: string, params: unknown) => {
      const res = await app().request("/mcp", {
        method: "POST",
        headers: { ...agentHeaders(agent), Accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as any).result;
    };
    const tools = (await rpc("m", "tools/list", {})).tools.map((t: any) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["submit_work", "get_work", "complete_work", "cancel_work"]));
    // Monitoring and explicit renewal are REST-only: the bridge's heartbeat renews leases. Batches are REST-only too:
    // their input repeats submit_work's whole schema in the tool list.
    expect(tools).not.toContain("submit_work_batch");
    expect(tools).not.toContain("renew_work");
    expect(tools).not.toContain("inspect_work");
    const sub = await rpc("mcp-orch", "tools/call", {
      name: "submit_work",
      arguments: {
        task_type: type,
        task_description: "write the parser",
        input_data: { file: "a.ts" },
        priority: 2,
        depends_on: [],
      },
    });
    expect(sub.isError).toBeFalsy();
    const taskId = sub.structuredContent.id;
    const pending = await rpc("mcp-w", "resources/read", { uri: "work://pending" });
    expect(JSON.parse(pending.contents[0].text).tasks.map((t: any) => t.id)).toContain(taskId);
    const got = await rpc("mcp-w", "tools/call", { name: "get_work", arguments: { task_types: [type] } });
    expect(got.content[0].text).toMatch(/claim_token \d+/);
    const token = got.structuredContent.tasks[0].claim_token;
    const wrong = await rpc("mcp-other", "tools/call", {
      name: "complete_work",
      arguments: { task_id: taskId, success: true },
    });
    expect(wrong.isError).toBe(true);
    expect(wrong.content[0].text).toMatch(/^not_claimant: .*claimed by mcp-w/);
    const done = await rpc("mcp-w", "tools/call", {
      name: "complete_work",
      arguments: {
        task_id: taskId,
        claim_token: token,
        success: true,
        result: { ok: true },
      },
    });
    expect(done.isError).toBeFalsy();
    expect(done.content[0].text).toBe(`task ${taskId} completed`);
    const bad = await rpc("mcp-w", "tools/call", { name: "submit_work", arguments: { task_type: type, priority: 99 } });
    expect(bad.isError).toBe(true);
    expect(bad.content[0].text).toMatch(/priority/);
  });
});
