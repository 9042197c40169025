import { expect, it } from "vitest";
import { adminHeaders, agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

forEachDatabase("locks", (get) => {
  const app = () => testApp(get().db).app;
  const post = (path: string, agent: string, body: unknown, extra: Record<string, string> = {}) =>
    app().request(path, { method: "POST", headers: agentHeaders(agent, extra), body: JSON.stringify(body) });
  const acquire = (agent: string, body: unknown, extra?: Record<string, string>) =>
    post("/locks/acquire", agent, body, extra);
  const release = (agent: string, body: unknown) => post("/locks/release", agent, body);
  const db = () => get().db;

  it("acquires one path and many paths, each with a strictly increasing fencing token", async () => {
    const one = await acquire("t-a", { repo: "t1", file_path: "./src\\a.ts", reason: "edit" });
    expect(one.status).toBe(200);
    const a = await one.json();
    expect(a.locks).toHaveLength(1);
    expect(a.locks[0]).toMatchObject({ key: "src/a.ts", agent_id: "t-a", reason: "edit", refreshed: false });
    const many = await (await acquire("t-a", { repo: "t1", file_paths: ["lib/x.ts", "docs/", "api:users"] })).json();
    expect(many.locks.map((l: { key: string }) => l.key)).toEqual(["api:users", "docs/", "lib/x.ts"]);
    for (const l of many.locks) expect(l.token).toBeGreaterThan(a.locks[0].token);
  });

  it("re-acquiring refreshes: same token, later expiry, lock.refreshed event", async () => {
    const first = (await (await acquire("t-r", { repo: "t2", file_path: "r.ts", ttl_minutes: 1 })).json()).locks[0];
    const again = (await (await acquire("t-r", { repo: "t2", file_path: "r.ts", ttl_minutes: 60 })).json()).locks[0];
    expect(again).toMatchObject({ token: first.token, refreshed: true });
    expect(Date.parse(again.expires_at)).toBeGreaterThan(Date.parse(first.expires_at));
    const kinds = await db().query<{ kind: string }>(
      "select kind from coord.events where subject = 'r.ts' order by id",
    );
    expect(kinds.map((k) => k.kind)).toEqual(["lock.acquired", "lock.refreshed"]);
  });

  it("a directory lock conflicts with files inside it and scopes above it; all or nothing", async () => {
    expect((await acquire("t-d1", { repo: "t3", file_path: "src/auth/" })).status).toBe(200);
    for (const path of ["src/auth/login.ts", "src/", "src/auth/"]) {
      const res = await acquire("t-d2", { repo: "t3", file_paths: ["free.ts", path], reason: "x" });
      expect(res.status).toBe(409);
      const body = await res.json();
      expect(body.error.code).toBe("lock_conflict");
      expect(body.error.conflicts).toEqual([expect.objectContaining({ key: "src/auth/", agent_id: "t-d1" })]);
      expect(body.error.message).toMatch(/src\/auth\/ by t-d1 until \d\d:\d\d:\d\dZ/);
    }
    // Nothing of the refused calls was taken: free.ts is still free.
    expect((await acquire("t-d3", { repo: "t3", file_path: "free.ts" })).status).toBe(200);
    // A sibling directory and a file outside are not in conflict; src/authx is not inside src/auth/.
    expect((await acquire("t-d2", { repo: "t3", file_paths: ["src/other/", "src/authx.ts"] })).status).toBe(200);
  });

  it("release says what was released and what was not held, and by whom", async () => {
    await acquire("t-rel", { repo: "t4", file_paths: ["a.ts", "dir/"] });
    const res = await release("t-rel", { repo: "t4", file_paths: ["a.ts", "dir/x.ts", "nobody.ts"] });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.released).toEqual([expect.objectContaining({ key: "a.ts", holder: "t-rel" })]);
    expect(body.not_held).toEqual([
      { key: "dir/x.ts", held_by: expect.objectContaining({ agent_id: "t-rel", key: "dir/" }) },
      { key: "nobody.ts", held_by: null },
    ]);
  });

  it("another agent's release is refused (403 not_holder, nothing released); an admin may force, recorded", async () => {
    await acquire("t-own", { repo: "t5", file_paths: ["o1.ts", "o2.ts"], reason: "mine" });
    await acquire("t-thief", { repo: "t5", file_path: "mine.ts" });
    const res = await release("t-thief", { repo: "t5", file_paths: ["mine.ts", "o1.ts"] });
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body.error.code).toBe("not_holder");
    expect(body.error.message).toMatch(/o1\.ts by t-own/);
    expect(
      (await (await app().request("/locks?repo=t5&file_path=mine.ts", { headers: agentHeaders("x") })).json()).locks,
    ).toHaveLength(1);
    const notAdmin = await release("t-thief", { repo: "t5", file_path: "o1.ts", force: true });
    expect(notAdmin.status).toBe(403);
    expect((await notAdmin.json()).error.code).toBe("admin_required");
    const forced = await app().request("/locks/release", {
      method: "POST",
      headers: adminHeaders("op"),
      body: JSON.stringify({ repo: "t5", file_path: "o1.ts", force: true }),
    });
    expect(forced.status).toBe(200);
    expect((await forced.json()).released).toEqual([expect.objectContaining({ key: "o1.ts", holder: "t-own" })]);
    const [ev] = await db().query<{ agent_id: string; data: { holder: string } }>(
      "select agent_id, data from coord.events where kind = 'lock.force_released' and subject = 'o1.ts'",
    );
    expect(ev).toMatchObject({ agent_id: "op", data: { holder: "t-own" } });
  });

  it("check_locks shows covering scopes and contents, all in a repo, never expired locks", async () => {
    await acquire("t-c1", { repo: "t6", file_paths: ["src/", "z.ts"] });
    await acquire("t-c2", { repo: "t6", file_path: "lib/q/w.ts" });
    const check = async (q: string) =>
      (await (await app().request(`/locks?repo=t6${q}`, { headers: agentHeaders("c") })).json()).locks.map(
        (l: { key: string }) => l.key,
      );
    expect(await check("&file_path=src/deep/file.ts")).toEqual(["src/"]);
    expect(await check("&file_path=lib/")).toEqual(["lib/q/w.ts"]);
    expect(await check("&file_paths=z.ts&file_paths=lib/q/w.ts")).toEqual(["lib/q/w.ts", "z.ts"]);
    expect(await check("")).toEqual(["lib/q/w.ts", "src/", "z.ts"]);
    await db().query(
      "update coord.locks set expires_at = now() - interval '1 second' where repo = 't6' and key = 'z.ts'",
    );
    expect(await check("")).toEqual(["lib/q/w.ts", "src/"]);
  });

  it("an expired lock blocks nobody: another agent takes it, the old token is lock_lost", async () => {
    const old = (
      await (await acquire("t-silent", { repo: "t7", file_path: "e.ts" }, { "X-Session-Id": "silent-1" })).json()
    ).locks[0];
    const ok = await post("/locks/verify", "ci", {
      repo: "t7",
      file_path: "e.ts",
      fencing_token: old.token,
      agent_id: "t-silent",
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ held: true, lock: { key: "e.ts" } });
    // The session went silent: no heartbeat, so the TTL runs out.
    await db().query("update coord.locks set expires_at = now() - interval '1 second' where repo = 't7'");
    const taken = await acquire("t-next", { repo: "t7", file_path: "e.ts" });
    expect(taken.status).toBe(200);
    const fresh = (await taken.json()).locks[0];
    expect(fresh.token).toBeGreaterThan(old.token);
    const stale = await post("/locks/verify", "t-silent", { repo: "t7", file_path: "e.ts", fencing_token: old.token });
    expect(stale.status).toBe(409);
    const body = await stale.json();
    expect(body.error.code).toBe("lock_lost");
    expect(body.error.message).toMatch(/now held: e\.ts by t-next/);
    const kinds = await db().query<{ kind: string }>(
      "select kind from coord.events where subject = 'e.ts' order by id",
    );
    expect(kinds.map((k) => k.kind)).toEqual(["lock.acquired", "lock.expired", "lock.acquired"]);
  });

  it("a heartbeating session keeps its locks past their TTL; session end releases them at once", async () => {
    const h = { "X-Session-Id": "hb-1" };
    const lock = (await (await acquire("t-hb", { repo: "t8", file_paths: ["h1.ts", "h2/"], ttl_minutes: 1 }, h)).json())
      .locks[0];
    // Nearly expired: the heartbeat renews it to now + its TTL (one minute).
    await db().query("update coord.locks set expires_at = now() + interval '2 seconds' where repo = 't8'");
    expect((await post("/sessions/heartbeat", "t-hb", {}, h)).status).toBe(200);
    const [row] = await db().query<{ left_s: number; token: string }>(
      "select extract(epoch from expires_at - now())::float8 as left_s, token::text from coord.locks where repo = 't8' and key = 'h1.ts'",
    );
    expect(row!.left_s).toBeGreaterThan(50);
    expect(Number(row!.token)).toBe(lock.token);
    const renewed = await db().query("select 1 from coord.events where kind = 'lock.renewed' and session_id = 'hb-1'");
    expect(renewed).toHaveLength(1);
    expect((await post("/sessions/end", "t-hb", {}, h)).status).toBe(200);
    expect(await db().query("select 1 from coord.locks where repo = 't8'")).toHaveLength(0);
    expect(
      await db().query("select 1 from coord.events where kind = 'lock.released' and data->>'cause' = 'session_ended'"),
    ).toHaveLength(2);
  });

  it("wait_seconds waits for the release and is woken by the notification, not by the re-check", async () => {
    await acquire("t-w1", { repo: "t9", file_path: "w.ts" });
    const waiting = acquire("t-w2", { repo: "t9", file_path: "w.ts", wait_seconds: 10 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await release("t-w1", { repo: "t9", file_path: "w.ts" })).status).toBe(200);
    const res = await waiting;
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.locks[0].agent_id).toBe("t-w2");
    // The safety-net re-check is 2 s; a wake-up well before it came from NOTIFY.
    expect(body.waited_ms).toBeGreaterThanOrEqual(250);
    expect(body.waited_ms).toBeLessThan(1500);
  });

  it("wait_seconds gives up with the conflict when the lock stays", async () => {
    await acquire("t-s1", { repo: "t10", file_path: "s.ts" });
    const res = await acquire("t-s2", { repo: "t10", file_path: "s.ts", wait_seconds: 0.5 });
    expect(res.status).toBe(409);
    expect((await res.json()).error.message).toMatch(/after waiting 0.5s/);
  });

  it("bad input is a 400 naming the field and what to fix", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /file_path: send file_path or file_paths/],
      [{ file_path: "" }, /must not be empty/],
      [{ file_path: "/etc/passwd" }, /absolute/],
      [{ file_path: "C:\\repo\\a.ts" }, /absolute/],
      [{ file_path: "src/../../x" }, /escape the repository root/],
      [{ file_path: "a\u0000b" }, /NUL/],
      [{ file_path: "./" }, /repository root/],
      [{ file_path: `${"d/".repeat(40)}f` }, /levels deep/],
      [{ file_path: "x".repeat(1100) }, /longer than 1024/],
      [{ file_paths: Array.from({ length: 51 }, (_, i) => `f${i}`) }, /at most 50 paths/],
      [{ file_path: "a", ttl_minutes: 0 }, /ttl_minutes/],
      [{ file_path: "a", ttl_minutes: 481 }, /ttl_minutes/],
      [{ file_path: "a", wait_seconds: 60 }, /wait_seconds/],
      [{ file_path: "a", repo: "../etc" }, /repo/],
      [{ file_path: "api:" }, /needs a name after api:/],
    ];
    for (const [body, msg] of cases) {
      const res = await acquire("t-bad", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = (await res.json()).error;
      expect(err.code).toBe("invalid_input");
      expect(err.message).toMatch(msg);
    }
  });

  it("an unknown repo is a 404 on release, check and verify", async () => {
    const r1 = await release("t-u", { repo: "no-such-repo", file_path: "a" });
    expect(r1.status).toBe(404);
    expect((await r1.json()).error.message).toMatch(/check the repo name/);
    expect((await app().request("/locks?repo=no-such-repo", { headers: agentHeaders("u") })).status).toBe(404);
    expect((await post("/locks/verify", "u", { repo: "no-such-repo", file_path: "a", fencing_token: 1 })).status).toBe(
      404,
    );
  });

  it("the database refuses an unnormalised key even from a caller that bypasses the API", async () => {
    await expect(
      db().query(
        "insert into coord.locks (repo, key, agent_id, token, ttl_seconds, acquired_at, renewed_at, expires_at) values ('x', '../a', 'a', 1, 60, now(), now(), now())",
      ),
    ).rejects.toThrow(/check/);
    const r = await db().query<{ r: { error: { code: string } } }>(
      "select coord.acquire_locks('default', 'a', null, array['a//b'], null, 60) as r",
    );
    expect(r[0]!.r).toMatchObject({ error: { code: "invalid_key", key: "a//b" } });
  });

  it("sweep deletes expired locks as lock.expired, admin only", async () => {
    await acquire("t-sw", { repo: "t11", file_path: "sw.ts" });
    await db().query("update coord.locks set expires_at = now() - interval '1 second' where repo = 't11'");
    expect((await post("/locks/sweep", "t-sw", {})).status).toBe(403);
    const res = await app().request("/locks/sweep", { method: "POST", headers: adminHeaders(), body: "{}" });
    expect((await res.json()).swept).toBeGreaterThanOrEqual(1);
    expect(await db().query("select 1 from coord.locks where repo = 't11'")).toHaveLength(0);
    expect(
      await db().query("select 1 from coord.events where kind = 'lock.expired' and subject = 'sw.ts'"),
    ).toHaveLength(1);
  });

  it("serves acquire_lock, release_lock, check_locks and locks://current over /mcp", async () => {
    let id = 0;
    const rpc = async (agent: string, method: string, params: unknown) => {
      const res = await app().request("/mcp", {
        method: "POST",
        headers: agentHeaders(agent, { Accept: "application/json, text/event-stream" }),
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      });
      expect(res.status).toBe(200);
      return (await res.json()).result;
    };
    const init = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } };
    await rpc("m1", "initialize", init);
    const tools = (await rpc("m1", "tools/list", {})).tools as Array<{
      name: string;
      outputSchema?: unknown;
      annotations?: Record<string, unknown>;
    }>;
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ["acquire_lock", "release_lock", "check_locks", "verify_lock"]) {
      expect(byName.get(name)?.outputSchema, name).toBeTruthy();
    }
    expect(byName.get("check_locks")!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.has("sweep_locks")).toBe(false);

    const got = await rpc("m1", "tools/call", {
      name: "acquire_lock",
      arguments: { repo: "mcp", file_path: "m.ts", reason: "mcp edit" },
    });
    expect(got.isError).toBeFalsy();
    expect(got.content[0].text).toMatch(/^locked m\.ts \(token \d+\) until/);
    expect(got.structuredContent.locks[0].key).toBe("m.ts");

    const refused = await rpc("m2", "tools/call", {
      name: "acquire_lock",
      arguments: { repo: "mcp", file_path: "m.ts" },
    });
    expect(refused.isError).toBe(true);
    expect(refused.content[0].text).toMatch(/^lock_conflict: Locked: m\.ts by m1 until .* for 'mcp edit'/);

    const check = await rpc("m2", "tools/call", { name: "check_locks", arguments: { repo: "mcp" } });
    expect(check.content[0].text).toMatch(/1 active: m\.ts by m1/);
    const current = await rpc("m2", "resources/read", { uri: "locks://current" });
    expect(JSON.parse(current.contents[0].text).locks).toEqual(
      expect.arrayContaining([expect.objectContaining({ repo: "mcp", key: "m.ts" })]),
    );

    const rel = await rpc("m1", "tools/call", {
      name: "release_lock",
      arguments: { repo: "mcp", file_paths: ["m.ts", "n.ts"] },
    });
    expect(rel.content[0].text).toBe("released m.ts; n.ts was not held by you");
  });

  it("coordinator status counts live locks", async () => {
    const before = (await (await app().request("/status", { headers: agentHeaders("s") })).json()).locks;
    await acquire("t-st", { repo: "t12", file_paths: ["s1", "s2"] });
    expect((await (await app().request("/status", { headers: agentHeaders("s") })).json()).locks).toBe(before + 2);
  });
});
