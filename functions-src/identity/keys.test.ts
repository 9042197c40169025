import { expect, it } from "vitest";
import { adminHeaders, agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/** The admin key operations: what `npm run keys` calls while `npm start` holds the data directory. */
forEachDatabase("API key operations", (get) => {
  const app = () => testApp(get().db).app;
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await app().request(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("an admin creates a bound key that works, lists it without the key, and revokes it", async () => {
    const created = await call("POST", "/keys", adminHeaders(), {
      agent_id: "keyed-by-api",
      trust_level: 3,
      label: "laptop agent",
    });
    expect(created.status).toBe(201);
    const { key, id, key_prefix } = created.body;
    expect(key).toMatch(/^ac_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({
      agent_id: "keyed-by-api",
      scope: "agent",
      trust_level: 3,
      label: "laptop agent",
    });
    expect(key_prefix).toBe(key.slice(0, 10));

    const me = await call("GET", "/me", { Authorization: `Bearer ${key}` });
    expect(me.body).toMatchObject({ agent_id: "keyed-by-api", scope: "agent", trust_level: 3 });
    const other = await call("GET", "/me", { Authorization: `Bearer ${key}`, "X-Agent-Id": "someone-else" });
    expect(other.status).toBe(403);

    const listed = await call("GET", "/keys", adminHeaders());
    expect(listed.status).toBe(200);
    const row = listed.body.keys.find((k: any) => k.id === id);
    expect(row).toMatchObject({ key_prefix, agent_id: "keyed-by-api", revoked: false, label: "laptop agent" });
    expect(row.last_used_at).not.toBeNull();
    // Neither the key nor its digest ever leaves the server again.
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(Object.keys(row)).not.toContain("key_hash");

    const revoked = await call("DELETE", `/keys/${key_prefix}`, adminHeaders());
    expect(revoked).toMatchObject({ status: 200, body: { revoked: 1 } });
    expect((await call("GET", "/me", { Authorization: `Bearer ${key}` })).status).toBe(401);
    const again = await call("DELETE", `/keys/${id}`, adminHeaders());
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("not_found");
  });

  it("only an admin key may manage keys, and bad input names the field", async () => {
    const agent = agentHeaders("not-an-operator");
    expect((await call("POST", "/keys", agent, { agent_id: "x" })).body.error.code).toBe("admin_required");
    expect((await call("GET", "/keys", agent)).status).toBe(403);
    expect((await call("DELETE", "/keys/ac_0123456", agent)).status).toBe(403);
    for (const [body, field] of [
      [{}, "agent_id"],
      [{ agent_id: "bad id" }, "agent_id"],
      [{ agent_id: "a", scope: "root" }, "scope"],
      [{ agent_id: "a", trust_level: 5 }, "trust_level"],
      [{ agent_id: "a", label: "x".repeat(201) }, "label"],
    ] as const) {
      const r = await call("POST", "/keys", adminHeaders(), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.fields.map((f: any) => f.field)).toContain(field);
    }
    expect((await call("GET", "/keys?limit=0", adminHeaders())).status).toBe(400);
  });
});
