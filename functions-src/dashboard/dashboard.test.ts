/**
 * The dashboard's server side, in-process: the page and its headers, sign-in with a key, the cookie, CSRF on every
 * write, sign-out, a revoked key ending the session, the overview, its stream, and the approval through the page's
 * API. The page itself runs in Chromium in test/dashboard.browser.test.ts.
 */
import { Script } from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_KEY, AGENT_KEY, agentHeaders, forEachDatabase, testApp, testConfig } from "../../test/helpers.ts";
import { SseReader } from "../../test/sse.ts";
import { sha256Bytes, toHex } from "../util/bytes.ts";
import { APP_JS } from "./app-script.ts";

type App = ReturnType<typeof testApp>["app"];

const HOST = "dash.test";
const ORIGIN = `http://${HOST}`;

/** A browser-like client: keeps the cookie, sends Host (and Origin on writes) like a same-origin page. */
function browser(app: App) {
  let cookie = "";
  let csrf = "";
  const send = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { Host: HOST, ...extra };
    if (cookie) headers.Cookie = cookie;
    if (method !== "GET") {
      headers.Origin ??= ORIGIN;
      if (csrf && !("X-CSRF-Token" in extra)) headers["X-CSRF-Token"] = csrf;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await app.request(`${ORIGIN}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0]!.endsWith("=") ? "" : set.split(";")[0]!;
    return res;
  };
  return {
    send,
    get cookie() {
      return cookie;
    },
    async signIn(key: string, agentId?: string) {
      const res = await send("POST", "/dashboard/api/login", { key, agent_id: agentId });
      if (res.status === 200) csrf = ((await res.clone().json()) as { csrf_token: string }).csrf_token;
      return res;
    },
  };
}

forEachDatabase("dashboard", (get) => {
  let app: App;
  beforeAll(() => {
    app = testApp(get().db, {
      config: { events: { ...testConfig().events, streamSeconds: 0, wallClockSeconds: 0 } },
    }).app;
  });
  afterAll(async () => {
    await app.close();
  });

  it("serves the page, its script and stylesheet from the app, under a strict Content-Security-Policy", async () => {
    for (const path of ["/dashboard", "/coordinator/dashboard"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await res.text();
      // Nothing inline: every script and style comes from the app itself.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=|style=|<style|https?:\/\//);
    }
    const js = await app.request("/dashboard/app.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    const served = await js.text();
    expect(served).toBe(APP_JS);
    expect((await app.request("/dashboard/app.css")).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await app.request("/dashboard/favicon.svg")).headers.get("content-type")).toBe("image/svg+xml");
    const slash = await app.request("/dashboard/");
    expect(slash.status).toBe(308);
    expect(slash.headers.get("location")).toBe("../dashboard");
    expect(() => new Script(APP_JS)).not.toThrow();
  });

  it("signs in with a key: an HttpOnly, SameSite=Strict cookie (Secure under https), and the key is not kept", async () => {
    const b = browser(app);
    expect((await b.send("GET", "/dashboard/api/session")).status).toBe(401);
    expect((await b.send("GET", "/dashboard/api/overview")).status).toBe(401);
    expect((await b.signIn("not-a-key-not-a-key")).status).toBe(401);
    expect((await b.signIn("short")).status).toBe(400);

    const res = await b.signIn(AGENT_KEY, "person-1");
    expect(res.status).toBe(200);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^coord_dashboard=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain("Secure");
    expect(cookie).not.toMatch(/Path=/i);
    expect(await res.json()).toMatchObject({ agent_id: "person-1", scope: "agent", csrf_token: expect.any(String) });
    const me = await b.send("GET", "/dashboard/api/session");
    expect(await me.json()).toMatchObject({ agent_id: "person-1", scope: "agent" });

    const rows = await get().db.query<{ token_hash: string; key_hash: string }>(
      "select token_hash, key_hash from coord.dashboard_sessions where agent_id = 'person-1'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).toBe(toHex(await sha256Bytes(AGENT_KEY)));
    expect(JSON.stringify(rows)).not.toContain(AGENT_KEY);
    expect(rows[0]!.token_hash).not.toBe(b.cookie.split("=")[1]);

    const https = await app.request(`${ORIGIN}/dashboard/api/login`, {
      method: "POST",
      headers: { Host: HOST, Origin: ORIGIN, "Content-Type": "application/json", "X-Forwarded-Proto": "https" },
      body: JSON.stringify({ key: AGENT_KEY, agent_id: "person-2" }),
    });
    expect(https.headers.get("set-cookie")).toContain("; Secure");
  });

  it("refuses a sign-in or a write from another site's page", async () => {
    const b = browser(app);
    const foreign = await b.send(
      "POST",
      "/dashboard/api/login",
      { key: AGENT_KEY, agent_id: "x" },
      { Origin: "https://evil.example" },
    );
    expect(foreign.status).toBe(403);
    expect((await b.signIn(ADMIN_KEY, "ops-csrf")).status).toBe(200);
    const cross = await b.send("POST", "/dashboard/api/logout", {}, { Origin: "https://evil.example" });
    expect(cross.status).toBe(403);
  });

  it("needs the CSRF token on every write, then signs out and the cookie stops working", async () => {
    const b = browser(app);
    await b.signIn(ADMIN_KEY, "ops-1");
    const noToken = await b.send("POST", "/dashboard/api/logout", {}, { "X-CSRF-Token": "" });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe("csrf_failed");
    const wrong = await b.send("POST", "/dashboard/api/logout", {}, { "X-CSRF-Token": "x".repeat(43) });
    expect(wrong.status).toBe(403);
    const saved = b.cookie;
    const out = await b.send("POST", "/dashboard/api/logout", {});
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/^coord_dashboard=; Max-Age=0/);
    const replay = await app.request("/dashboard/api/session", { headers: { Cookie: saved } });
    expect(replay.status).toBe(401);
  });

  it("ends the session when its key is revoked", async () => {
    const key = `ac_dashboard_revoke_${Math.random().toString(36).slice(2)}`;
    await get().db.query("select coord.create_api_key($1, $2, $3, 'agent', 2, 'dashboard test')", [
      toHex(await sha256Bytes(key)),
      key.slice(0, 8),
      "revokee",
    ]);
    const b = browser(app);
    expect((await b.signIn(key)).status).toBe(200);
    expect((await b.send("GET", "/dashboard/api/session")).status).toBe(200);
    await get().db.query("select coord.revoke_api_key($1)", [key.slice(0, 8)]);
    expect((await b.send("GET", "/dashboard/api/session")).status).toBe(401);
  });

  it("reads the overview (also as GET /overview with a key) and streams events through the session", async () => {
    const lock = await app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("overview-agent", { "X-Session-Id": "ov-1" }),
      body: JSON.stringify({ repo: "dash", file_path: "src/ui/panel.ts", reason: "shown on the dashboard" }),
    });
    expect(lock.status).toBe(200);
    const b = browser(app);
    await b.signIn(AGENT_KEY, "viewer");
    const o = (await (await b.send("GET", "/dashboard/api/overview")).json()) as any;
    expect(o.locks).toContainEqual(
      expect.objectContaining({ repo: "dash", key: "src/ui/panel.ts", agent_id: "overview-agent", holder_alive: true }),
    );
    const agent = o.agents.find((a: any) => a.agent_id === "overview-agent");
    expect(agent).toMatchObject({ alive: true, locks: 1, lock_keys: ["src/ui/panel.ts"] });
    expect(agent.sessions[0].session_id).toBeNull();
    expect(o.events_cursor).toEqual(expect.any(Number));
    expect(o.recent_events.length).toBeGreaterThan(0);
    expect(o.recent_events.every((e: any) => e.id <= o.events_cursor)).toBe(true);

    const viaKey = await app.request("/overview", { headers: agentHeaders("overview-agent") });
    const mine = ((await viaKey.json()) as any).agents.find((a: any) => a.agent_id === "overview-agent");
    expect(mine.sessions[0].session_id).toBe("ov-1");

    const stream = await b.send("GET", "/dashboard/api/events", undefined, {
      "Last-Event-ID": String(o.events_cursor),
    });
    expect(stream.status).toBe(200);
    const reader = new SseReader(stream.body!);
    await app.request("/locks/release", {
      method: "POST",
      headers: agentHeaders("overview-agent"),
      body: JSON.stringify({ repo: "dash", file_path: "src/ui/panel.ts" }),
    });
    await reader.until((r) => r.json("lock.released").some((e) => e.subject === "src/ui/panel.ts"), 20_000, "release");
    await reader.close();
  });

  it("lets an admin approve a tier-4 changeset through the page's API, and not an agent", async () => {
    const sha = (await sha256Bytes(`dash-${Math.random()}`)).slice(0, 20);
    const submitted = await app.request("/webhook/agent", {
      method: "POST",
      headers: agentHeaders("t4-submitter"),
      body: JSON.stringify({
        repo: "acme/dash",
        commit_sha: toHex(sha),
        files: [{ path: ".github/workflows/ci.yml", status: "modified" }],
      }),
    });
    expect(submitted.status, await submitted.clone().text()).toBe(201);
    const cs = (await submitted.json()) as { id: string; tier: number };
    expect(cs.tier).toBe(4);

    const agent = browser(app);
    await agent.signIn(AGENT_KEY, "not-an-admin");
    const o = (await (await agent.send("GET", "/dashboard/api/overview")).json()) as any;
    expect(o.approvals.map((a: any) => a.changeset_id)).toContain(cs.id);
    const denied = await agent.send("POST", `/dashboard/api/changesets/${cs.id}/review`, {
      decision: "approve",
      note: "x",
    });
    expect(denied.status).toBe(403);

    const admin = browser(app);
    await admin.signIn(ADMIN_KEY, "alice");
    const bad = await admin.send("POST", `/dashboard/api/changesets/${cs.id}/review`, { decision: "maybe", note: "x" });
    expect(bad.status).toBe(400);
    const ok = await admin.send("POST", `/dashboard/api/changesets/${cs.id}/review`, {
      decision: "approve",
      note: "reviewed on the dashboard",
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    const after = (await ok.json()) as { results: Array<{ tier: number; status: string; reported_by: string }> };
    expect(after.results.find((r) => r.tier === 4)).toMatchObject({ status: "passed", reported_by: "alice" });
    const again = (await (await admin.send("GET", "/dashboard/api/overview")).json()) as any;
    expect(again.approvals.map((a: any) => a.changeset_id)).not.toContain(cs.id);
  });
});
