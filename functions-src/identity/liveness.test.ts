/**
 * Session liveness, handoffs and lost notices through the app, on PGlite and Postgres. A heartbeating session lives
 * for the configured timeout after its last heartbeat (or call); what it holds never outlives that, so a dead
 * session's locks and claims are free at once — no sweeper needed — and every cleanup names the cause. Timeouts are
 * short here and waits are bounded by the configuration, never by fixed wall-clock numbers.
 */
import { expect, it } from "vitest";
import { callJson } from "../db/port.ts";
import { ConfigError, EDGE_DEFAULTS, loadConfig } from "../config.ts";
import { adminHeaders, agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/** Short enough to wait for, long enough that a loaded machine does not lapse a live session between two calls. */
const TIMEOUT_S = 3;

let seq = 0;
const unique = (name: string) => `${name}-${++seq}-${Math.random().toString(36).slice(2, 7)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("COORDINATOR_SESSION_TIMEOUT_SECONDS: default 90, an integer from 2, anything else a ConfigError naming it", () => {
  expect(loadConfig({}, EDGE_DEFAULTS).sessionTimeoutSeconds).toBe(90);
  expect(loadConfig({ COORDINATOR_SESSION_TIMEOUT_SECONDS: "45" }, EDGE_DEFAULTS).sessionTimeoutSeconds).toBe(45);
  for (const bad of ["1", "0", "-5", "ninety", "1.5"]) {
    expect(() => loadConfig({ COORDINATOR_SESSION_TIMEOUT_SECONDS: bad }, EDGE_DEFAULTS)).toThrow(ConfigError);
    expect(() => loadConfig({ COORDINATOR_SESSION_TIMEOUT_SECONDS: bad }, EDGE_DEFAULTS)).toThrow(
      /COORDINATOR_SESSION_TIMEOUT_SECONDS/,
    );
  }
});

forEachDatabase("session liveness", (get) => {
  const db = () => get().db;
  const app = () => testApp(db(), { env: { COORDINATOR_SESSION_TIMEOUT_SECONDS: String(TIMEOUT_S) } }).app;
  const call = async (path: string, agent: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await app().request(path, {
      method: "POST",
      headers: { ...agentHeaders(agent), ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const session = (id: string) => ({ "X-Session-Id": id });
  const beat = (agent: string, sid: string) => call("/sessions/heartbeat", agent, {}, session(sid));
  let rpcId = 0;
  /** One MCP tools/call over /mcp, as the bridge sends it (agent, session). */
  const tool = async (agent: string, sid: string, name: string, args: Record<string, unknown>) => {
    const res = await app().request("/mcp", {
      method: "POST",
      headers: agentHeaders(agent, { Accept: "application/json, text/event-stream", "X-Session-Id": sid }),
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method: "tools/call", params: { name, arguments: args } }),
    });
    expect(res.status).toBe(200);
    return (await res.json()).result as {
      isError?: boolean;
      content: Array<{ text: string }>;
      structuredContent?: any;
    };
  };
  const events = (where: string, params: unknown[]) =>
    db().query<{ kind: string; data: any; session_id: string | null }>(
      `select kind, data, session_id from coord.events where ${where} order by id`,
      params,
    );
  /** Waits (bounded by the configuration) until the session's liveness has lapsed by the database's clock. */
  const waitDead = async (agent: string, sid: string) => {
    for (let i = 0; i < 100; i++) {
      const [row] = await db().query<{ dead: boolean }>(
        "select live_until <= now() as dead from coord.sessions where agent_id = $1 and session_id = $2",
        [agent, sid],
      );
      if (row?.dead) return;
      await sleep(TIMEOUT_S * 50);
    }
    throw new Error(`session ${sid} still alive after ${TIMEOUT_S * 5} s`);
  };

  it("a heartbeat gives the session liveness; its locks and claims never outlive it; sessionless ones keep the TTL", async () => {
    const repo = unique("lv");
    const hb = await beat("lv-a", "lv-s1");
    expect(hb.status).toBe(200);
    expect(hb.body.timeout_seconds).toBe(TIMEOUT_S);
    const liveUntil = Date.parse(hb.body.live_until);
    expect(liveUntil - Date.parse(hb.body.heartbeat_at)).toBe(TIMEOUT_S * 1000);

    // Every call of the session extends its liveness; what it holds ends no later than that.
    const liveMs = async () =>
      (
        await db().query<{ ms: number }>(
          "select floor(extract(epoch from live_until) * 1000)::float8 as ms from coord.sessions where session_id = 'lv-s1'",
        )
      )[0]!.ms;
    const held = await call("/locks/acquire", "lv-a", { repo, file_path: "a.ts", ttl_minutes: 30 }, session("lv-s1"));
    expect(held.status).toBe(200);
    expect(Date.parse(held.body.locks[0].expires_at)).toBeLessThanOrEqual(await liveMs());

    const type = unique("lv-task");
    await call("/work/tasks", "lv-orch", { task_type: type });
    const claimed = await call("/work/claim", "lv-a", { task_types: [type], lease_seconds: 600 }, session("lv-s1"));
    expect(Date.parse(claimed.body.tasks[0].lease_expires_at)).toBeLessThanOrEqual(await liveMs());
    // Both a full timeout ahead at most, well short of their own 30 min / 10 min.
    expect(Date.parse(claimed.body.tasks[0].lease_expires_at) - Date.now()).toBeLessThanOrEqual(TIMEOUT_S * 1000);

    // No session (a one-shot REST call): the TTL alone, as before.
    const plain = await call("/locks/acquire", "lv-b", { repo, file_path: "b.ts", ttl_minutes: 30 });
    expect(Date.parse(plain.body.locks[0].expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);
  });

  it("a dead session's lock and claim are free at once, without any sweeper; the events name the cause", async () => {
    const repo = unique("dead");
    const type = unique("dead-task");
    await beat("dd-a", "dd-s1");
    expect((await call("/locks/acquire", "dd-a", { repo, file_path: "c.ts" }, session("dd-s1"))).status).toBe(200);
    const task = (await call("/work/tasks", "dd-orch", { task_type: type })).body.id;
    expect((await call("/work/claim", "dd-a", { task_types: [type] }, session("dd-s1"))).body.tasks).toHaveLength(1);

    // Alive: refused, and the refusal says the holder is alive.
    const refused = await call("/locks/acquire", "dd-b", { repo, file_path: "c.ts" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/c\.ts by dd-a \(alive, last heartbeat \d+ s ago\)/);
    expect(refused.body.error.conflicts[0].holder).toMatchObject({ state: "alive", timeout_seconds: TIMEOUT_S });

    await waitDead("dd-a", "dd-s1");
    const taken = await call("/locks/acquire", "dd-b", { repo, file_path: "c.ts" });
    expect(taken.status).toBe(200);
    expect(
      (await events("subject = 'c.ts' and data->>'repo' = $1 and kind = 'lock.expired'", [repo]))[0],
    ).toMatchObject({
      session_id: "dd-s1",
      data: { cause: "session_expired" },
    });
    const next = await call("/work/claim", "dd-b", { task_types: [type] });
    expect(next.body.tasks.map((t: { id: string }) => t.id)).toEqual([task]);
    // The claim declared the session dead first, then its claim came back naming why.
    const kinds = await events(
      "(subject = $1 and kind like 'task.%') or (subject = 'dd-s1' and kind like 'session.%')",
      [task],
    );
    expect(kinds.map((e) => e.kind)).toEqual([
      "task.submitted",
      "task.claimed",
      "session.expired",
      "task.released",
      "task.claimed",
    ]);
    expect(kinds[3]!.data).toMatchObject({ reason: "session expired", lost_by: "dd-a" });
    expect(await db().query("select end_cause from coord.sessions where session_id = 'dd-s1'")).toEqual([
      { end_cause: "expired" },
    ]);
  });

  it("a refusal names an unresponsive holder and when its lock goes; wait_seconds wakes at that moment", async () => {
    const repo = unique("wake");
    await beat("wk-a", "wk-s1");
    await call("/locks/acquire", "wk-a", { repo, file_path: "w.ts", reason: "implementing parser" }, session("wk-s1"));
    // Make the holder look silent for most of its timeout (the lock keeps its bound: never past live_until).
    await db().query("update coord.sessions set live_until = now() + interval '1 second' where session_id = 'wk-s1'");
    await db().query("update coord.locks set expires_at = now() + interval '1 second' where repo = $1", [repo]);
    const refused = await call("/locks/acquire", "wk-b", { repo, file_path: "w.ts" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /w\.ts by wk-a, whose session stopped responding \d+ s ago; released at \d\d:\d\d:\d\dZ unless it heartbeats again for 'implementing parser'\. Nothing was taken\. Retry with wait_seconds/,
    );
    expect(refused.body.error.conflicts[0].holder.state).toBe("unresponsive");

    const waited = await call("/locks/acquire", "wk-b", { repo, file_path: "w.ts", wait_seconds: 15 });
    expect(waited.status).toBe(200);
    // Woken at the expiry (about a second), not by the end of the wait.
    expect(waited.body.waited_ms).toBeLessThan(15_000);
  });

  it("an admin force-release: the holder's next MCP tool answer starts with a notice, once", async () => {
    const repo = unique("force");
    await beat("fr-a", "fr-s1");
    const got = await tool("fr-a", "fr-s1", "acquire_lock", { repo, file_path: "f.ts" });
    const token = got.structuredContent.locks[0].token;
    const forced = await app().request("/locks/release", {
      method: "POST",
      headers: adminHeaders("fr-op"),
      body: JSON.stringify({ repo, file_path: "f.ts", force: true }),
    });
    expect(forced.status).toBe(200);

    const next = await tool("fr-a", "fr-s1", "check_locks", { repo });
    expect(next.content[0]!.text).toMatch(/^NOTICE — taken from this session while it was running:/);
    expect(next.content[0]!.text).toContain(`Lock on f.ts in repo ${repo} (token ${token}) lost at`);
    expect(next.content[0]!.text).toContain("an admin (fr-op) force-released it");
    expect(next.content[0]!.text).toContain("Stop editing f.ts");
    expect(next.content[1]!.text).toMatch(/no active locks/);
    const after = await tool("fr-a", "fr-s1", "check_locks", { repo });
    expect(after.content).toHaveLength(1);
    // Another session of the same agent is not told.
    expect((await tool("fr-a", "fr-s2", "check_locks", { repo })).content).toHaveLength(1);
  });

  it("a session that comes back after its timeout: declared dead on its next call, told what it lost, revived", async () => {
    const repo = unique("zombie");
    const type = unique("zombie-task");
    await beat("zb-a", "zb-s1");
    const lock = await tool("zb-a", "zb-s1", "acquire_lock", { repo, file_path: "z.ts" });
    expect(lock.isError).toBeFalsy();
    await call("/work/tasks", "zb-orch", { task_type: type });
    const claim = await tool("zb-a", "zb-s1", "get_work", { task_types: [type] });
    const task = claim.structuredContent.tasks[0];
    await waitDead("zb-a", "zb-s1");

    // Nothing swept in between: the call itself declares the session dead, and its answer says what went.
    const back = await tool("zb-a", "zb-s1", "check_locks", { repo });
    const notice = back.content[0]!.text;
    expect(notice).toMatch(/^NOTICE/);
    expect(notice).toContain("Lock on z.ts");
    expect(notice).toContain("this session sent no heartbeat for its timeout and was declared dead");
    expect(notice).toContain(`Claim on task ${task.id} (claim_token ${task.claim_token})`);
    expect(notice).toContain("discard its result");
    const [s] = await db().query<{ ended: boolean; alive: boolean }>(
      "select ended_at is not null as ended, live_until > now() as alive from coord.sessions where session_id = 'zb-s1'",
    );
    expect(s).toEqual({ ended: false, alive: true });
    expect(await events("subject = 'zb-s1' and kind = 'session.expired'", [])).toHaveLength(1);
    // It holds nothing now: the claim is refused as lost, and a heartbeat does not bring anything back.
    const late = await tool("zb-a", "zb-s1", "complete_work", {
      task_id: task.id,
      claim_token: task.claim_token,
      success: true,
    });
    expect(late.isError).toBe(true);
    expect(late.content[0]!.text).toMatch(/^lease_lost/);
    await beat("zb-a", "zb-s1");
    expect(await db().query("select 1 from coord.locks where repo = $1", [repo])).toHaveLength(0);
  });

  it("handoff: the next claimant sees who held the task, for how long, why it came back, notes and working memory", async () => {
    const type = unique("handoff");
    await beat("ho-a", "ho-s1");
    const id = (await call("/work/tasks", "ho-orch", { task_type: type, task_description: "implement parser" })).body
      .id;
    const [t] = (await tool("ho-a", "ho-s1", "get_work", { task_types: [type] })).structuredContent.tasks;
    expect(t.handoff).toBeNull();
    // A REST progress note on renew, and working memory tied to the task (the MCP way), plus one that is not.
    const renewed = await call("/work/tasks/" + id + "/renew", "ho-a", {
      claim_token: t.claim_token,
      note: "lexer done; parser half way, see src/parse.ts",
    });
    expect(renewed.status).toBe(200);
    for (const [summary, kind, task_id] of [
      ["decided: recursive descent, no generator", "decision", id],
      ["unrelated chore", "note", undefined],
    ] as const) {
      const r = await tool("ho-a", "ho-s1", "remember", { layer: "working", kind, summary, task_id });
      expect(r.isError).toBeFalsy();
    }
    await waitDead("ho-a", "ho-s1");

    const next = await tool("ho-b", "ho-s2", "get_work", { task_types: [type] });
    const [claimed] = next.structuredContent.tasks;
    expect(claimed.id).toBe(id);
    expect(claimed.handoff).toMatchObject({
      agent_id: "ho-a",
      session_id: "ho-s1",
      claim_token: t.claim_token,
      attempt: 1,
      why: "session expired",
      notes: [{ agent_id: "ho-a", note: "lexer done; parser half way, see src/parse.ts" }],
      working_memory: [{ kind: "decision", content: "decided: recursive descent, no generator" }],
    });
    expect(claimed.handoff.working_memory).toHaveLength(1);
    expect(claimed.handoff.held_seconds).toBeGreaterThanOrEqual(0);
    const text = next.content.map((c) => c.text).join("\n");
    expect(text).toContain("handoff: ho-a held it");
    expect(text).toContain("it came back: session expired");
    expect(text).toContain("note from ho-a");
    expect(text).toContain("their decision: decided: recursive descent");
  });

  it("a failed attempt hands over its error; the handoff of a clean end says so", async () => {
    const type = unique("retry");
    const id = (await call("/work/tasks", "rt-orch", { task_type: type, retry_backoff_seconds: 0 })).body.id;
    const [t] = (await call("/work/claim", "rt-a", { task_types: [type] })).body.tasks;
    await call(`/work/tasks/${id}/complete`, "rt-a", {
      claim_token: t.claim_token,
      success: false,
      error_message: "flaky network",
    });
    const [again] = (await call("/work/claim", "rt-b", { task_types: [type] }, session("rt-s"))).body.tasks;
    expect(again.handoff).toMatchObject({ agent_id: "rt-a", why: "failed: flaky network", attempt: 1 });
    expect((await call("/sessions/end", "rt-b", {}, session("rt-s"))).status).toBe(200);
    const [third] = (await call("/work/claim", "rt-c", { task_types: [type] })).body.tasks;
    expect(third.handoff).toMatchObject({ agent_id: "rt-b", session_id: "rt-s", why: "session ended", attempt: 2 });
  });

  it("at session end, clean or dead, working memory folds into one episodic memory the agent's next session recalls", async () => {
    for (const [sid, end] of [
      ["fold-clean", "ended"],
      ["fold-dead", "expired"],
    ] as const) {
      await beat("fold-a", sid);
      for (const [summary, kind] of [
        [`goal: migrate the billing schema (${sid})`, "goal"],
        ["use alembic revision --autogenerate, then edit by hand", "decision"],
      ] as const) {
        expect(
          (await tool("fold-a", sid, "remember", { layer: "working", kind, summary, priority: 4 })).isError,
        ).toBeFalsy();
      }
      if (end === "ended") expect((await call("/sessions/end", "fold-a", {}, session(sid))).status).toBe(200);
      else {
        await waitDead("fold-a", sid);
        await callJson(db(), "coord.expire_sessions", [100]);
      }
      const rows = await db().query<{ summary: string; details: string; visibility: string }>(
        "select summary, details, visibility from coord.memories where event_type = 'session_summary' and session_id = $1",
        [sid],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.summary).toBe(
        `Session ${sid} (${end}), 2 working items: goal: goal: migrate the billing schema (${sid}); decision: use ` +
          "alembic revision --autogenerate, then edit by hand",
      );
      expect(rows[0]!.visibility).toBe("private");
    }
    const recalled = await tool("fold-a", "fold-next", "recall", {
      task_description: "billing schema migration alembic",
    });
    const summaries = recalled.structuredContent.results.map((r: { summary: string }) => r.summary);
    expect(summaries.some((s: string) => s.includes("fold-clean"))).toBe(true);
    expect(summaries.some((s: string) => s.includes("fold-dead"))).toBe(true);
    // Private to the agent: another agent's recall does not see it.
    const other = await tool("fold-b", "fold-other", "recall", {
      task_description: "billing schema migration alembic",
    });
    expect(JSON.stringify(other.structuredContent)).not.toContain("fold-clean");
    // Ending again folds nothing twice.
    expect(await callJson(db(), "coord.working_fold", ["fold-a", "fold-clean", "ended"])).toBeNull();
  });
});
