import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import {
  ADMIN_KEY,
  AGENT_KEY,
  adminHeaders,
  agentHeaders,
  BOUND_AGENT,
  boundHeaders,
  forEachDatabase,
  testApp,
} from "../../test/helpers.ts";

/**
 * Agent ids that cannot be borrowed: an id bound to a key (COORDINATION_API_KEYS `KEY:ID`, or a database key) is
 * that key's alone; the shared key gets 403 for it. Admin keys may act for anyone, and the events say so.
 */
forEachDatabase("agent ids bound to a key are reserved", (get) => {
  const call = async (path: string, headers: Record<string, string>, body?: unknown) => {
    const { app } = testApp(get().db);
    const res = await app.request(path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  /** A database key bound to `agent`; answers its headers. */
  async function dbKey(agent: string, scope: "agent" | "admin" = "agent") {
    const key = `db-${scope}-${agent}-key-0123456789`;
    const hash = createHash("sha256").update(key).digest("hex");
    await get().db.query("select coord.create_api_key($1, $2, $3, $4, 2, null)", [
      hash,
      key.slice(0, 10),
      agent,
      scope,
    ]);
    return { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
  }

  it("the shared key cannot act as an id bound in the environment (403), the bound key can", async () => {
    const borrowed = await call("/me", agentHeaders(BOUND_AGENT));
    expect(borrowed.status).toBe(403);
    expect(borrowed.body.error).toMatchObject({ code: "agent_id_reserved", agent_id: BOUND_AGENT });
    expect((await call("/me", boundHeaders())).body).toMatchObject({ agent_id: BOUND_AGENT });
  });

  it("nor as an id a database key is bound to: no releasing its locks, reading its memory, completing its task", async () => {
    const owner = await dbKey("db-owner");
    // What the owner holds.
    const lock = await call("/locks/acquire", owner, { file_path: "reserved/a.ts" });
    expect(lock.status).toBe(200);
    const memory = await call("/memory", owner, { summary: "private note of db-owner", visibility: "private" });
    expect(memory.status).toBe(201);
    const type = `reserved-${Date.now()}`;
    await call("/work/tasks", owner, { task_type: type });
    const claimed = await call("/work/claim", owner, { task_types: [type] });
    const task = claimed.body.tasks[0];

    const impostor = agentHeaders("db-owner");
    for (const [path, body] of [
      ["/locks/release", { file_path: "reserved/a.ts" }],
      ["/memory/recall", { task_description: "private note" }],
      [`/work/tasks/${task.id}/complete`, { claim_token: task.claim_token, success: true }],
    ] as const) {
      const r = await call(path, impostor, body);
      expect(r.status, path).toBe(403);
      expect(r.body.error.code).toBe("agent_id_reserved");
    }
    const details = await call(`/memory/details?ids=${memory.body.id}`, impostor);
    expect(details.status).toBe(403);
    // Nothing changed.
    const [held] = await get().db.query<{ agent_id: string }>(
      "select agent_id from coord.locks where key = 'reserved/a.ts'",
    );
    expect(held?.agent_id).toBe("db-owner");
    expect((await call(`/work/tasks/${task.id}`, owner)).body.status).toBe("claimed");
  });

  it("a database key bound to one agent cannot act as another (403), an unreserved id stays free to the shared key", async () => {
    const owner = await dbKey("db-owner-2");
    const other = await call("/me", { ...owner, "X-Agent-Id": "someone-else" });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("key_bound_to_other_agent");
    expect((await call("/me", agentHeaders("free-agent"))).body).toMatchObject({ agent_id: "free-agent" });
  });

  it("admin keys act for anyone, reserved ids included, and events record that an admin did it", async () => {
    const owner = await dbKey("db-owner-3");
    await call("/locks/acquire", owner, { file_path: "reserved/admin.ts" });
    const released = await call("/locks/release", adminHeaders("db-owner-3"), { file_path: "reserved/admin.ts" });
    expect(released.status).toBe(200);
    expect(released.body.released).toHaveLength(1);
    const [event] = await get().db.query<{ agent_id: string; data: { acted_by?: string } }>(
      "select agent_id, data from coord.events where kind = 'lock.released' and subject = 'reserved/admin.ts' order by id desc limit 1",
    );
    const envAdmin = `admin:env:${createHash("sha256").update(ADMIN_KEY).digest("hex").slice(0, 8)}`;
    expect(event).toMatchObject({ agent_id: "db-owner-3", data: { acted_by: envAdmin } });
    // The agent's own acts carry no acted_by.
    await call("/locks/acquire", owner, { file_path: "reserved/own.ts" });
    const [own] = await get().db.query<{ data: Record<string, unknown> }>(
      "select data from coord.events where kind = 'lock.acquired' and subject = 'reserved/own.ts'",
    );
    expect(own!.data).not.toHaveProperty("acted_by");
    // A database admin key is recorded by its prefix.
    const dbAdmin = await dbKey("ops-1", "admin");
    await call("/locks/acquire", { ...dbAdmin, "X-Agent-Id": "db-owner-3" }, { file_path: "reserved/by-admin.ts" });
    const [byAdmin] = await get().db.query<{ data: { acted_by?: string } }>(
      "select data from coord.events where kind = 'lock.acquired' and subject = 'reserved/by-admin.ts'",
    );
    expect(byAdmin!.data.acted_by).toBe("admin:db-admin-o");
  });

  it("whoami says whether the id is the key's own", async () => {
    expect((await call("/me", boundHeaders())).body).toMatchObject({ agent_id: BOUND_AGENT, bound: true });
    const shared = await call("/me", { Authorization: `Bearer ${AGENT_KEY}`, "X-Agent-Id": "shared-1" });
    expect(shared.body).toMatchObject({ agent_id: "shared-1", bound: false });
    expect((await call("/me", await dbKey("db-owner-4"))).body).toMatchObject({ agent_id: "db-owner-4", bound: true });
  });
});
