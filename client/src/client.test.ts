import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentCoordinationClient, CoordinatorError, normalizeBaseUrl, OPERATIONS } from "./index.ts";
import { AGENT_KEY, forEachDatabase, testApp } from "../../test/helpers.ts";
import { CAPABILITIES } from "../../functions-src/app.ts";

forEachDatabase("typed client", (get) => {
  const client = (extra: { agentId?: string; sessionId?: string; apiKey?: string } = {}) => {
    const { app } = testApp(get().db);
    return new AgentCoordinationClient({
      baseUrl: "http://localhost/coordinator/",
      apiKey: extra.apiKey ?? AGENT_KEY,
      agentId: extra.agentId ?? "cloud-1",
      sessionId: extra.sessionId,
      fetch: async (url, init) => app.request(url, init),
    });
  };

  it("calls GET and POST operations with typed answers", async () => {
    const me = await client().whoami();
    expect(me.agent_id).toBe("cloud-1");
    const s = await client().coordinatorStatus();
    expect(s.schema_version).toMatch(/^\d{4}_/);
    const hb = await client({ sessionId: "cloud-s1" }).heartbeat();
    expect(hb.session_id).toBe("cloud-s1");
  });

  it("locks: acquire, check (repeated query parameters), verify, release", async () => {
    const a = client({ agentId: "cloud-lock-a" });
    const { locks } = await a.acquireLock({ file_paths: ["src/x.ts", "src/y.ts"], reason: "client test" });
    expect(locks.map((l) => l.key).sort()).toEqual(["src/x.ts", "src/y.ts"]);
    const checked = await a.checkLocks({ file_paths: ["src/x.ts", "src/y.ts", "src/z.ts"] });
    expect(checked.locks.map((l) => l.key).sort()).toEqual(["src/x.ts", "src/y.ts"]);
    const token = locks.find((l) => l.key === "src/x.ts")!.token;
    expect((await a.verifyLock({ file_path: "src/x.ts", fencing_token: token })).held).toBe(true);

    const err = await client({ agentId: "cloud-lock-b" })
      .acquireLock({ file_path: "src/x.ts" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect(err).toMatchObject({ status: 409, code: "lock_conflict" });
    expect((err as CoordinatorError).details.conflicts).toEqual([
      expect.objectContaining({ key: "src/x.ts", agent_id: "cloud-lock-a" }),
    ]);
    const released = await a.releaseLock({ file_paths: ["src/x.ts", "src/y.ts"] });
    expect(released.released).toHaveLength(2);
  });

  it("work: submit, claim and complete (path parameters filled from the arguments)", async () => {
    const c = client({ agentId: "cloud-worker", sessionId: "cloud-worker-s" });
    const submitted = await c.submitWork({ task_type: "client-test", task_description: "typed", input_data: { n: 1 } });
    const { tasks } = await c.getWork({ task_types: ["client-test"] });
    expect(tasks[0]!.id).toBe(submitted.id);
    const done = await c.completeWork({ task_id: tasks[0]!.id, claim_token: tasks[0]!.claim_token!, success: true });
    expect(done).toMatchObject({ task_id: submitted.id, status: "completed" });
  });

  it("calls the gateway's operations", async () => {
    const changeset = await client().submitChanges({
      repo: "acme/client",
      commit_sha: "c".repeat(40),
      files: [{ path: "README.md", status: "modified" }],
    });
    expect(changeset).toMatchObject({ repo: "acme/client", tier: 0 });
    const again = await client().verificationStatus({ id: changeset.id });
    expect(again.id).toBe(changeset.id);
  });

  it("turns refusals into CoordinatorError with the code and message", async () => {
    const err = await client({ apiKey: "wrong-key-000000000000" })
      .whoami()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect(err).toMatchObject({ status: 401, code: "invalid_key" });
    const noSession = await client()
      .heartbeat()
      .catch((e: unknown) => e);
    expect(noSession).toMatchObject({ status: 400, code: "missing_session_id" });
  });
});

describe("client surface", () => {
  it("has one method per declared operation, named in camelCase", () => {
    const ops = CAPABILITIES.flatMap((c) => c.operations);
    const c = new AgentCoordinationClient({ baseUrl: "http://x", apiKey: "k" }) as unknown as Record<string, unknown>;
    for (const op of ops) {
      const method = op.name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
      expect(typeof c[method], method).toBe("function");
      expect(OPERATIONS[op.name as keyof typeof OPERATIONS]).toMatchObject({
        method: op.http.method,
        path: op.http.path,
      });
    }
    expect(Object.keys(OPERATIONS).sort()).toEqual(ops.map((o) => o.name).sort());
  });

  it("the README's retry table says what OPERATIONS does", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const rows = [...readme.matchAll(/^\| (always|only with|never)([^|]*)\| (.*) \|$/gm)];
    const documented = new Map<string, string>();
    for (const [, kind, rest, cell] of rows) {
      // "only with an `idempotency_key`" → key:idempotency_key
      const rule = kind === "only with" ? `key:${/`(\w+)`/.exec(rest!)?.[1]}` : kind!;
      for (const [, method] of cell!.matchAll(/`(\w+)`/g)) documented.set(method!, rule);
    }
    const camel = (n: string) => n.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
    const actual = new Map(
      Object.entries(OPERATIONS).map(([name, r]) => [
        camel(name),
        r.retry === "key" ? `key:${(r as { key: string }).key}` : (r.retry as string),
      ]),
    );
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
  });

  it("accepts the base URL with a trailing slash or /mcp", () => {
    for (const url of ["http://h:1", "http://h:1/", "http://h:1/mcp", "http://h:1/mcp/", " http://h:1// "]) {
      expect(normalizeBaseUrl(url)).toBe("http://h:1");
    }
    expect(normalizeBaseUrl("https://p.supabase.co/functions/v1/coordinator/mcp")).toBe(
      "https://p.supabase.co/functions/v1/coordinator",
    );
  });
});

/**
 * Retries against a real HTTP server whose answers the test scripts: each request takes the next planned step
 * (`503` with Retry-After, a dropped connection, a hang, or a pass-through answer).
 */
describe("retries", () => {
  type Step = { status: number; retryAfter?: string } | "drop" | "hang";
  let server: Server;
  let url: string;
  let plan: Step[] = [];
  let seen: Array<{ method: string; path: string; at: number }> = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ method: req.method!, path: req.url!, at: performance.now() });
      const step = plan.shift() ?? { status: 200 };
      if (step === "drop") return req.socket.destroy();
      if (step === "hang") return;
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (step.retryAfter) headers["Retry-After"] = step.retryAfter;
      const body =
        step.status === 200 || step.status === 201
          ? { ok: true, attempt: seen.length }
          : { error: { code: step.status === 503 ? "unavailable" : "rate_limited", message: "try later", extra: 1 } };
      res.writeHead(step.status, headers).end(JSON.stringify(body));
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    plan = [];
    seen = [];
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const fast = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };
  const make = (retry: object | false = fast, timeoutMs?: number) =>
    new AgentCoordinationClient({ baseUrl: url, apiKey: "k", agentId: "a", retry, timeoutMs });

  it("retries a read on 503 and answers the first success", async () => {
    plan = [{ status: 503 }, { status: 503 }];
    const out = (await make().checkLocks({ file_path: "a.ts" })) as unknown as { attempt: number };
    expect(out.attempt).toBe(3);
    expect(seen.map((s) => s.path)).toEqual(Array(3).fill("/locks?file_path=a.ts"));
  });

  it("honours Retry-After (seconds) before the next attempt", async () => {
    plan = [{ status: 503, retryAfter: "1" }];
    await make().whoami();
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it("fails at once when Retry-After is longer than it will wait", async () => {
    plan = [{ status: 503, retryAfter: "120" }];
    const err = await make()
      .whoami()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "unavailable", message: "try later", details: { extra: 1 } });
    expect(seen).toHaveLength(1);
  });

  it("retries a dropped connection for idempotent writes and keyed submissions, never for claims", async () => {
    plan = ["drop"];
    await make().acquireLock({ file_path: "a.ts" });
    expect(seen).toHaveLength(2);

    seen = [];
    plan = ["drop"];
    await make().submitWork({ task_type: "t", task_description: "d", idempotency_key: "k-1" });
    expect(seen).toHaveLength(2);

    seen = [];
    plan = ["drop"];
    const unkeyed = await make()
      .submitWork({ task_type: "t", task_description: "d" })
      .catch((e: unknown) => e);
    expect(unkeyed).toMatchObject({ status: 0, code: "unreachable" });
    expect(seen).toHaveLength(1);

    seen = [];
    plan = [{ status: 503 }];
    const claim = await make()
      .getWork({})
      .catch((e: unknown) => e);
    expect(claim).toMatchObject({ status: 503, code: "unavailable" });
    expect(seen).toHaveLength(1);
  });

  it("retries completions that carry their claim token (each one's, in a batch), and cancellations", async () => {
    const tid = "00000000-0000-4000-8000-000000000001";
    plan = ["drop"];
    await make().completeWork({ task_id: tid, claim_token: 7, success: true });
    expect(seen).toHaveLength(2);

    seen = [];
    plan = ["drop"];
    const untokened = await make()
      .completeWork({ task_id: tid, success: true })
      .catch((e: unknown) => e);
    expect(untokened).toMatchObject({ status: 0, code: "unreachable" });
    expect(seen).toHaveLength(1);

    seen = [];
    plan = [{ status: 503 }];
    await make().completeWorkBatch({ completions: [{ task_id: tid, claim_token: 7, success: true }] });
    expect(seen).toHaveLength(2);

    seen = [];
    plan = [{ status: 503 }];
    const partly = await make()
      .completeWorkBatch({
        completions: [
          { task_id: tid, claim_token: 7, success: true },
          { task_id: tid, success: true },
        ],
      })
      .catch((e: unknown) => e);
    expect(partly).toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);

    seen = [];
    plan = ["drop"];
    await make().cancelWork({ task_id: tid });
    expect(seen).toHaveLength(2);
  });

  it("gives up after the configured retries, and never retries with retry: false", async () => {
    plan = [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }];
    await expect(make({ ...fast, retries: 2 }).whoami()).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(3);
    seen = [];
    plan = [{ status: 503 }];
    await expect(make(false).whoami()).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });

  it("does not retry refusals other than 503 and 429", async () => {
    plan = [{ status: 409 }];
    await expect(make().acquireLock({ file_path: "a.ts" })).rejects.toMatchObject({ status: 409 });
    expect(seen).toHaveLength(1);
    plan = [{ status: 429, retryAfter: "0" }];
    seen = [];
    await make().whoami();
    expect(seen).toHaveLength(2);
  });

  it("times out an attempt that gets no answer", async () => {
    plan = ["hang", "hang"];
    const err = await make({ ...fast, retries: 1 }, 200)
      .whoami()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: "timeout" });
    expect(seen).toHaveLength(2);
  });

  it("stops waiting when the caller aborts", async () => {
    plan = [{ status: 503, retryAfter: "20" }];
    const controller = new AbortController();
    const pending = make({ ...fast, maxRetryAfterMs: 60_000 }).whoami({}, { signal: controller.signal });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });
});
