import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import {
  agentHeaders,
  adminHeaders,
  boundHeaders,
  forEachDatabase,
  silentLog,
  testApp,
  testConfig,
  BOUND_AGENT,
} from "../test/helpers.ts";

forEachDatabase("app", (get) => {
  const app = () => testApp(get().db).app;

  it("GET /health answers 200 with the schema version, at the root and under /coordinator", async () => {
    for (const path of ["/health", "/coordinator/health"]) {
      const res = await app().request(path);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({ status: "ok", database: { reachable: true, kind: get().kind } });
      expect(body.database.schema_version).toMatch(/^\d{4}_/);
    }
  });

  it("refuses a request without a key (401) and with an unknown key (401)", async () => {
    const none = await app().request("/status");
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe("missing_key");
    const bad = await app().request("/status", {
      headers: { Authorization: "Bearer not-a-real-key-1234567", "X-Agent-Id": "a" },
    });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe("invalid_key");
    // RFC 6750: the bare challenge without credentials, invalid_token for a wrong key.
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="agent-coordinator"');
    expect(bad.headers.get("www-authenticate")).toBe('Bearer realm="agent-coordinator", error="invalid_token"');
  });

  it("every 401 carries the challenge, the webhook's signature refusal too", async () => {
    const { app: hooked } = testApp(get().db, { env: { GITHUB_WEBHOOK_SECRET: "webhook-secret-0123456789" } });
    const res = await hooked.request("/webhook/github", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00" },
      body: "{}",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="agent-coordinator"/);
  });

  it("OAuth discovery and registration paths answer 404 saying the server takes an API key", async () => {
    for (const [method, path] of [
      ["GET", "/.well-known/oauth-protected-resource"],
      ["GET", "/.well-known/oauth-protected-resource/mcp"],
      ["GET", "/.well-known/oauth-authorization-server"],
      ["GET", "/.well-known/openid-configuration"],
      ["GET", "/mcp/.well-known/openid-configuration"],
      ["POST", "/register"],
      ["GET", "/authorize"],
      ["POST", "/token"],
    ] as const) {
      const res = await app().request(path, { method });
      expect(res.status, path).toBe(404);
      const body = await res.json();
      expect(body.error.code, path).toBe("oauth_not_supported");
      expect(body.error.message).toMatch(/Authorization: Bearer <key>/);
    }
    expect((await (await app().request("/no-such-route")).json()).error.code).toBe("not_found");
  });

  it("accepts the key as X-API-Key too", async () => {
    const res = await app().request("/me", {
      headers: { "X-API-Key": "test-agent-key-0123456789", "X-Agent-Id": "via-x-api-key" },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).agent_id).toBe("via-x-api-key");
  });

  it("a bound key acts only as its agent: 403 for another id, its own id by default", async () => {
    const other = await app().request("/me", { headers: { ...boundHeaders(), "X-Agent-Id": "someone-else" } });
    expect(other.status).toBe(403);
    expect((await other.json()).error.code).toBe("key_bound_to_other_agent");
    const { "X-Agent-Id": _omit, ...noAgent } = boundHeaders();
    const own = await app().request("/me", { headers: noAgent });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ agent_id: BOUND_AGENT, scope: "agent" });
  });

  it("an unbound agent key must name the agent, and only admin keys carry the admin scope", async () => {
    const { "X-Agent-Id": _omit, ...noAgent } = agentHeaders("x");
    const res = await app().request("/me", { headers: noAgent });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("missing_agent_id");
    expect(await (await app().request("/me", { headers: agentHeaders("plain") })).json()).toMatchObject({
      scope: "agent",
    });
    expect(await (await app().request("/me", { headers: adminHeaders("op") })).json()).toMatchObject({
      scope: "admin",
    });
  });

  it("rejects malformed identity headers with the header named", async () => {
    const res = await app().request("/me", { headers: agentHeaders("bad id with spaces") });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_header", field: "x-agent-id" } });
  });

  it("records every authenticated agent and session in the agents table", async () => {
    const res = await app().request("/me", {
      headers: agentHeaders("presence-agent", { "X-Agent-Type": "claude_code", "X-Session-Id": "s-presence" }),
    });
    expect(res.status).toBe(200);
    const rows = await get().db.query<{ agent_type: string; last_session_id: string }>(
      "select agent_type, last_session_id from coord.agents where agent_id = 'presence-agent'",
    );
    expect(rows).toEqual([{ agent_type: "claude_code", last_session_id: "s-presence" }]);
    const sessions = await get().db.query(
      "select 1 from coord.sessions where agent_id = 'presence-agent' and session_id = 's-presence'",
    );
    expect(sessions).toHaveLength(1);
  });

  it("heartbeat and session end update the session row", async () => {
    const h = agentHeaders("hb-agent", { "X-Session-Id": "s-hb" });
    expect((await app().request("/sessions/heartbeat", { method: "POST", headers: h, body: "{}" })).status).toBe(200);
    let [row] = await get().db.query<{ hb: boolean; ended: boolean }>(
      "select last_heartbeat_at is not null as hb, ended_at is not null as ended from coord.sessions where agent_id = 'hb-agent'",
    );
    expect(row).toEqual({ hb: true, ended: false });
    const end = await app().request("/sessions/end", { method: "POST", headers: h, body: "{}" });
    expect(await end.json()).toMatchObject({ session_id: "s-hb", ended: true });
    [row] = await get().db.query(
      "select last_heartbeat_at is not null as hb, ended_at is not null as ended from coord.sessions where agent_id = 'hb-agent'",
    );
    expect(row).toEqual({ hb: true, ended: true });
    const events = await get().db.query("select kind from coord.events where agent_id = 'hb-agent'");
    expect(events).toEqual([{ kind: "session.ended" }]);
  });

  it("heartbeat without a session id is a 400 that says what to send", async () => {
    const res = await app().request("/sessions/heartbeat", {
      method: "POST",
      headers: agentHeaders("no-session"),
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/X-Session-Id/);
  });

  it("bad input: malformed JSON 400, wrong content type 415, unknown route 404, wrong method 405", async () => {
    const malformed = await app().request("/sessions/heartbeat", {
      method: "POST",
      headers: agentHeaders("a", { "X-Session-Id": "s" }),
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("malformed_json");
    const form = await app().request("/sessions/heartbeat", {
      method: "POST",
      headers: { ...agentHeaders("a", { "X-Session-Id": "s" }), "Content-Type": "text/plain" },
      body: "{}",
    });
    expect(form.status).toBe(415);
    const missing = await app().request("/no/such/route", { headers: agentHeaders("a") });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
    const method = await app().request("/health", { method: "POST" });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toContain("GET");
  });

  it("refuses an oversized body with 413 before reading it", async () => {
    const { app: small } = testApp(get().db, { config: { maxBodyBytes: 1024 } });
    const res = await small.request("/sessions/heartbeat", {
      method: "POST",
      headers: agentHeaders("big", { "X-Session-Id": "s" }),
      body: JSON.stringify({ pad: "x".repeat(4096) }),
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("body_too_large");
  });

  it("never leaks internals: a failing database call is a 500 with a request id and no SQL", async () => {
    const broken = {
      ...get().db,
      query: async () => {
        throw new Error('relation "coord.secret_table" does not exist');
      },
    };
    const app = createApp({ db: broken, config: testConfig(), log: silentLog });
    const res = await app.request("/status", { headers: agentHeaders("boom") });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/relation|secret_table|coord\./);
    expect(JSON.parse(text).error.request_id).toBeTruthy();
  });

  it("serves an OpenAPI document generated from the operations", async () => {
    const doc = await (await app().request("/openapi.json")).json();
    expect(doc.paths["/sessions/heartbeat"].post.operationId).toBe("heartbeat");
    expect(doc.paths["/status"].get.responses["200"]).toBeTruthy();
  });
});

describe("host guard", () => {
  it("answers 403 to a foreign Host or Origin when bound to loopback, and accepts localhost names on any port", async () => {
    const broken = {
      query: async () => [],
      exec: async () => {},
      transaction: async () => {
        throw new Error();
      },
      listen: async () => async () => {},
      close: async () => {},
      kind: "pglite" as const,
    };
    const app = createApp({
      db: broken,
      config: testConfig({ allowedHosts: ["localhost", "127.0.0.1", "[::1]"] }),
      log: silentLog,
    });
    expect((await app.request("http://evil.example/health")).status).toBe(403);
    expect(
      (await app.request("http://127.0.0.1:9999/health", { headers: { Origin: "http://evil.example" } })).status,
    ).toBe(403);
    for (const host of ["http://localhost:1/health", "http://127.0.0.1:8787/health", "http://[::1]:8787/health"]) {
      expect((await app.request(host, { headers: { Origin: "http://localhost:3000" } })).status).not.toBe(403);
    }
  });
});
