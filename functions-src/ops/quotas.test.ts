import { describe, expect, it } from "vitest";
import { adminHeaders, agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";
import { RateLimiter } from "./quotas.ts";

describe("the rate limiter", () => {
  it("allows a minute's allowance at once, then refills continuously; answers the seconds to wait", () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(1);
    expect(limiter.take("b")).toBe(0);
    now += 1000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(1);
    expect(new RateLimiter(0).take("a")).toBe(0);
  });
});

/**
 * Per-agent caps: held locks and open tasks (counted by SQL), memory writes and requests (counted in memory). Over a
 * cap: 429, Retry-After, a message naming the limit. Admin keys are exempt.
 */
forEachDatabase("quotas", (get) => {
  const app = (env: Record<string, string>) => testApp(get().db, { env }).app;
  const post = async (a: ReturnType<typeof app>, path: string, headers: Record<string, string>, body: unknown) => {
    const res = await a.request(path, { method: "POST", headers, body: JSON.stringify(body) });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
  };

  it("held locks: over the cap is a 429 naming held_locks; releasing makes room; re-acquiring your own lock is free; admins exempt", async () => {
    const a = app({ COORDINATOR_MAX_HELD_LOCKS: "3" });
    const h = agentHeaders("lock-hoarder");
    expect((await post(a, "/locks/acquire", h, { file_paths: ["q/1", "q/2", "q/3"] })).status).toBe(200);
    const over = await post(a, "/locks/acquire", h, { file_path: "q/4" });
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    expect(over.body.error).toMatchObject({ code: "quota_exceeded", limit: "held_locks", max: 3, held: 3 });
    expect(over.body.error.message).toMatch(/lock quota.*at most 3/);
    expect((await post(a, "/locks/acquire", h, { file_path: "q/1" })).status).toBe(200);
    expect((await post(a, "/locks/release", h, { file_path: "q/1" })).status).toBe(200);
    expect((await post(a, "/locks/acquire", h, { file_path: "q/4" })).status).toBe(200);
    const admin = adminHeaders("lock-hoarder");
    expect((await post(a, "/locks/acquire", admin, { file_paths: ["q/5", "q/6"] })).status).toBe(200);
  });

  it("open tasks: over the cap is a 429 naming pending_tasks; a retried batch is never refused; finishing makes room", async () => {
    const a = app({ COORDINATOR_MAX_PENDING_TASKS: "3" });
    const h = agentHeaders("task-flooder");
    const type = `quota-${Date.now()}`;
    const first = await post(a, "/work/tasks/batch", h, {
      tasks: [1, 2, 3].map((i) => ({ task_type: type, idempotency_key: `k${i}` })),
    });
    expect(first.status).toBe(201);
    const over = await post(a, "/work/tasks", h, { task_type: type });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: "quota_exceeded", limit: "pending_tasks", max: 3, held: 3 });
    expect(over.retryAfter).toBeTruthy();
    // The same batch again (a retry after an unknown outcome) adds nothing, so it is answered, not refused.
    const retry = await post(a, "/work/tasks/batch", h, {
      tasks: [1, 2, 3].map((i) => ({ task_type: type, idempotency_key: `k${i}` })),
    });
    expect(retry.status).toBe(201);
    expect(retry.body.tasks.every((t: any) => t.deduplicated)).toBe(true);
    const claimed = await post(a, "/work/claim", agentHeaders("worker"), { task_types: [type] });
    const t = claimed.body.tasks[0];
    await post(a, `/work/tasks/${t.id}/complete`, agentHeaders("worker"), {
      claim_token: t.claim_token,
      success: true,
    });
    expect((await post(a, "/work/tasks", h, { task_type: type })).status).toBe(201);
    expect((await post(a, "/work/tasks", adminHeaders("task-flooder"), { task_type: type })).status).toBe(201);
  });

  it("memory writes per minute: 429 naming the limit, for this agent only; admins exempt", async () => {
    const a = app({ COORDINATOR_MEMORY_RATE: "2" });
    const h = agentHeaders("chatty");
    expect((await post(a, "/memory", h, { summary: "one" })).status).toBe(201);
    expect((await post(a, "/memory", h, { summary: "two" })).status).toBe(201);
    const over = await post(a, "/memory", h, { summary: "three" });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: "quota_exceeded", limit: "memory_writes_per_minute", max: 2 });
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await post(a, "/memory", agentHeaders("quiet"), { summary: "mine" })).status).toBe(201);
    expect((await post(a, "/memory", adminHeaders("chatty"), { summary: "op" })).status).toBe(201);
  });

  it("requests per minute: 429 with Retry-After naming the limit; admins exempt", async () => {
    const a = app({ COORDINATOR_REQUEST_RATE: "5" });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await a.request("/me", { headers: agentHeaders("busy") })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const over = await a.request("/me", { headers: agentHeaders("busy") });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await over.json()) as any).error).toMatchObject({
      code: "quota_exceeded",
      limit: "requests_per_minute",
      message: expect.stringMatching(/at most 5 requests a minute/),
    });
    for (let i = 0; i < 10; i++) expect((await a.request("/me", { headers: adminHeaders("busy") })).status).toBe(200);
  });
});
