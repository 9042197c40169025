import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { defineCapability } from "../ops/capability.ts";
import { defineOperation } from "../ops/operation.ts";
import { identityCapability } from "../identity/capability.ts";
import { agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";
import { githubHeaders, WEBHOOK_SECRET } from "../../test/verification.ts";
import { inspectJson, MAX_JSON_DEPTH } from "./input-gate.ts";

const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("the input gate's rules", () => {
  it("finds NUL and lone surrogates in values and keys, and nesting past the limit, with the path", () => {
    expect(inspectJson({ a: ["ok", "x\u0000y"] })).toEqual({ path: ["a", 1], problem: "nul" });
    expect(inspectJson({ a: { "\ud800": 1 } })).toEqual({ path: ["a", "\ud800"], problem: "surrogate" });
    expect(inspectJson({ a: "\udc00" })).toEqual({ path: ["a"], problem: "surrogate" });
    expect(inspectJson({ a: "emoji 😀 and ünïcode" })).toBeNull();
    expect(inspectJson(JSON.parse(nested(MAX_JSON_DEPTH)))).toBeNull();
    expect(inspectJson(JSON.parse(nested(MAX_JSON_DEPTH + 1)))?.problem).toBe("depth");
    // The walk is iterative: a million levels are refused, not a stack overflow.
    expect(inspectJson(JSON.parse(nested(1_000_000)))?.problem).toBe("depth");
  });
});

/** An MCP client whose HTTP goes straight into `app.request()`. */
async function mcpClient(app: ReturnType<typeof testApp>["app"], agent: string) {
  const { "Content-Type": _ct, ...headers } = agentHeaders(agent, { "X-Session-Id": `${agent}-s` });
  const client = new Client({ name: "gate-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
      requestInit: { headers },
      fetch: (url, init) => Promise.resolve(app.request(String(url), init as RequestInit)),
    }),
  );
  return client;
}

forEachDatabase("every bad text answers 400 naming the field, over REST and MCP (F1–F4)", (get) => {
  const NUL = "a\u0000b";
  const LONE = "\ud800";
  const DEEP = JSON.parse(nested(3000));
  const SESSION = { "X-Session-Id": "gate-session" };

  async function post(path: string, body: unknown, agent = "gate-agent") {
    const { app } = testApp(get().db);
    const res = await app.request(path, {
      method: "POST",
      headers: agentHeaders(agent, SESSION),
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  /** A claimed task of a fresh type, for completions. */
  async function claimed(agent: string) {
    const type = `gate-${Math.random().toString(36).slice(2, 8)}`;
    expect((await post("/work/tasks", { task_type: type }, agent)).status).toBe(201);
    const claim = await post("/work/claim", { task_types: [type] }, agent);
    return claim.body.tasks[0] as { id: string; claim_token: number };
  }

  const cases: Array<[string, string, (bad: unknown) => unknown, string]> = [
    ["lock reason", "/locks/acquire", (bad) => ({ file_path: "a.ts", reason: bad }), "reason"],
    ["task description", "/work/tasks", (bad) => ({ task_type: "t", task_description: bad }), "task_description"],
    ["task input", "/work/tasks", (bad) => ({ task_type: "t", input_data: { note: bad } }), "input_data.note"],
    ["task input key", "/work/tasks", (bad) => ({ task_type: "t", input_data: { [String(bad)]: 1 } }), "input_data."],
    ["batch input", "/work/tasks/batch", (bad) => ({ tasks: [{ task_type: "t", input_data: [bad] }] }), "tasks.0"],
    ["idempotency key", "/work/tasks", (bad) => ({ task_type: "t", idempotency_key: bad }), "idempotency_key"],
    ["memory summary", "/memory", (bad) => ({ summary: bad }), "summary"],
    ["memory lessons", "/memory", (bad) => ({ summary: "s", lessons: bad }), "lessons"],
    ["memory tags", "/memory", (bad) => ({ summary: "s", tags: ["ok", bad] }), "tags.1"],
    ["recall query", "/memory/recall", (bad) => ({ task_description: bad }), "task_description"],
    ["skill name", "/memory/skills/outcome", (bad) => ({ name: bad, outcome: "success" }), "name"],
    [
      "changeset file",
      "/webhook/agent",
      (bad) => ({
        repo: "o/r",
        commit_sha: "a".repeat(40),
        files: [{ path: "a.ts", status: "modified", diff: bad }],
      }),
      "files.0.diff",
    ],
  ];

  for (const [what, path, body, field] of cases) {
    it(`${what}: NUL and a lone surrogate are refused with 400 naming ${field}`, async () => {
      for (const bad of [NUL, LONE]) {
        const r = await post(path, body(bad));
        expect(r.status, JSON.stringify(r.body)).toBe(400);
        expect(r.body.error.code).toBe("invalid_input");
        expect(r.body.error.fields[0].field.startsWith(field), r.body.error.fields[0].field).toBe(true);
        expect(r.body.error.message).toMatch(bad === NUL ? /NUL/ : /surrogate/);
      }
    });
  }

  it("a completion's result and error message: 400 naming the field, and the claim stays", async () => {
    const task = await claimed("gate-worker");
    const bad = await post(`/work/tasks/${task.id}/complete`, { success: true, result: { x: NUL } }, "gate-worker");
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].field).toBe("result.x");
    const msg = await post(`/work/tasks/${task.id}/complete`, { success: false, error_message: LONE }, "gate-worker");
    expect(msg.body.error.fields[0].field).toBe("error_message");
    const ok = await post(`/work/tasks/${task.id}/complete`, { success: true, result: { x: "fine" } }, "gate-worker");
    expect(ok.status).toBe(200);
  });

  it("JSON nested 3000 levels deep is a 400 naming the field, not a stack overflow (F3)", async () => {
    for (const [path, body] of [
      ["/work/tasks", { task_type: "t", input_data: DEEP }],
      ["/memory", { summary: "s", details: "d", tags: DEEP }],
    ] as const) {
      const r = await post(path, body);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/nests deeper than 64 levels/);
    }
  });

  it("a query string with %00 is a 400 naming the parameter", async () => {
    const { app } = testApp(get().db);
    const res = await app.request("/work/tasks?submitted_by=%00", { headers: agentHeaders("gate-agent") });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.fields[0].field).toBe("submitted_by");
    const locks = await app.request("/locks?file_path=a%00b", { headers: agentHeaders("gate-agent") });
    expect(locks.status).toBe(400);
  });

  it("a name on an episodic memory is a 400 naming the field, not a check-constraint 500 (F4)", async () => {
    const r = await post("/memory", { summary: "s", name: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.fields[0].field).toBe("name");
  });

  it("a signed GitHub webhook whose action holds NUL is a 400 naming the field", async () => {
    const { app } = testApp(get().db, { env: { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    const body = JSON.stringify({ action: NUL, repository: { full_name: "o/r" } });
    const res = await app.request("/webhook/github", {
      method: "POST",
      body,
      headers: await githubHeaders("issues", "gate-delivery-1", body),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.fields[0].field).toBe("action");
  });

  it("over MCP a bad argument is a tool error naming the argument; the envelope's a JSON-RPC error", async () => {
    const { app } = testApp(get().db);
    const client = await mcpClient(app, "gate-mcp");
    for (const [args, field] of [
      [{ file_path: "a.ts", reason: NUL }, "reason"],
      [{ file_path: "a.ts", reason: LONE }, "reason"],
    ] as const) {
      const r = await client.callTool({ name: "acquire_lock", arguments: args });
      expect(r.isError).toBe(true);
      expect((r.content as Array<{ text: string }>)[0]!.text).toMatch(new RegExp(`^invalid_input: .*${field}`));
    }
    const deep = await client.callTool({ name: "submit_work", arguments: { task_type: "t", input_data: DEEP } });
    expect(deep.isError).toBe(true);
    expect((deep.content as Array<{ text: string }>)[0]!.text).toMatch(/input_data.*nests deeper/);
    expect((deep.content as Array<{ text: string }>)[0]!.text).not.toMatch(/call stack/i);
    const memory = await client.callTool({ name: "remember", arguments: { summary: "s", name: "x" } });
    expect(memory.isError).toBe(true);
    expect((memory.content as Array<{ text: string }>)[0]!.text).toMatch(/name/);
    await expect(client.callTool({ name: `acquire_lock${NUL}`, arguments: {} })).rejects.toThrow(/Invalid params/);
    await client.close();
  });
});

forEachDatabase("an internal error carries its request id, over REST and MCP", (get) => {
  const broken = defineCapability({
    name: "broken",
    operations: [
      defineOperation({
        name: "broken_tool",
        title: "Broken",
        description: "Always fails.",
        input: z.object({}),
        output: z.object({}),
        hints: { readOnlyHint: true },
        http: { method: "POST", path: "/broken" },
        run: async () => {
          throw new Error("relation coord.secret_internals does not exist at /srv/app/file.ts:12");
        },
        summarize: () => "",
      }),
    ],
  });

  it("REST: 500 with the request id in the body, and nothing internal", async () => {
    const { app } = testApp(get().db, { capabilities: [identityCapability, broken] });
    const res = await app.request("/broken", { method: "POST", headers: agentHeaders("a"), body: "{}" });
    expect(res.status).toBe(500);
    const text = await res.text();
    const id = res.headers.get("x-request-id")!;
    expect(JSON.parse(text).error).toMatchObject({ code: "internal", request_id: id });
    expect(JSON.parse(text).error.message).toContain(id);
    expect(text).not.toMatch(/coord\.|\/srv|file\.ts/);
  });

  it("MCP: the tool error text names the request id, and nothing internal", async () => {
    const { app } = testApp(get().db, { capabilities: [identityCapability, broken] });
    const client = await mcpClient(app, "broken-mcp");
    const r = await client.callTool({ name: "broken_tool", arguments: {} });
    const text = (r.content as Array<{ text: string }>)[0]!.text;
    expect(r.isError).toBe(true);
    expect(text).toMatch(/^internal: .*request id [0-9a-f-]{36}/);
    expect(text).not.toMatch(/coord\.|\/srv|file\.ts/);
    await client.close();
  });
});
