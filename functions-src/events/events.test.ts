/**
 * GET /events (SSE) and the audit query, in-process and over a real listening server: delivery, resume without loss
 * or repeat, filters, who sees what, the backlog bound and `reset`, heartbeats, the stream's end before its limit,
 * and 200 subscribers at once. Latencies are printed, never asserted beyond a generous ceiling.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppConfig } from "../config.ts";
import {
  ADMIN_KEY,
  adminHeaders,
  agentHeaders,
  forEachDatabase,
  type TestDatabase,
  testApp,
  testConfig,
} from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { SseReader } from "../../test/sse.ts";
import { eventsState } from "./capability.ts";

type App = ReturnType<typeof testApp>["app"];

/** Events config for tests: no stream limits unless a test sets them. */
function eventsConfig(overrides: Partial<AppConfig["events"]> = {}): Partial<AppConfig> {
  return { events: { ...testConfig().events, streamSeconds: 0, wallClockSeconds: 0, ...overrides } };
}

async function open(app: App, headers: Record<string, string>, query = ""): Promise<SseReader> {
  const res = await app.request(`/events${query}`, { headers });
  expect(res.status, await peekError(res)).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return new SseReader(res.body!);
}

async function peekError(res: Response): Promise<string> {
  if (res.status === 200) return "";
  return res.clone().text();
}

let fileSeq = 0;
async function lock(app: App, agent: string, repo = "default", path = `src/f${++fileSeq}.ts`) {
  const res = await app.request("/locks/acquire", {
    method: "POST",
    headers: agentHeaders(agent),
    body: JSON.stringify({ repo, file_path: path, reason: "testing the feed" }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return { path, body: (await res.json()) as { locks: Array<{ key: string; token: number }> } };
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

forEachDatabase("GET /events", (get: () => TestDatabase) => {
  let app: App;
  beforeAll(() => {
    app = testApp(get().db, { config: eventsConfig() }).app;
  });
  afterAll(async () => {
    await app.close();
  });

  it("needs a key, and refuses bad parameters with the field", async () => {
    expect((await app.request("/events")).status).toBe(401);
    const bad = await app.request("/events?kinds=Lock!", { headers: agentHeaders("a") });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("kinds");
    const after = await app.request("/events", { headers: agentHeaders("a", { "Last-Event-ID": "-3" }) });
    expect(after.status).toBe(400);
  });

  it("delivers a lock taken by another agent, without its fencing token, and the token to its holder", async () => {
    const watcher = await open(app, agentHeaders("watcher"));
    const holder = await open(app, agentHeaders("holder-1", { "X-Session-Id": "s-holder" }));
    const started = performance.now();
    const res = await app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("holder-1", { "X-Session-Id": "s-holder" }),
      body: JSON.stringify({ file_path: "src/delivered.ts", reason: "deliver me" }),
    });
    expect(res.status).toBe(200);
    const isIt = (r: SseReader) => r.json("lock.acquired").some((e) => e.subject === "src/delivered.ts");
    await watcher.until(isIt, 20_000, "lock.acquired at the watcher");
    const latency = performance.now() - started;
    await holder.until(isIt, 20_000, "lock.acquired at the holder");
    console.log(`[events ${get().kind}] lock.acquired delivered ${latency.toFixed(1)} ms after the request started`);

    const seen = watcher.json("lock.acquired").find((e) => e.subject === "src/delivered.ts");
    expect(seen).toMatchObject({
      kind: "lock.acquired",
      agent_id: "holder-1",
      data: { repo: "default", reason: "deliver me" },
    });
    expect(seen.data.token).toBeUndefined();
    expect(seen.session_id).toBeUndefined();
    const msg = watcher.messages.find(
      (m) => m.event === "lock.acquired" && JSON.parse(m.data).subject === "src/delivered.ts",
    );
    expect(msg!.id).toBe(String(seen.id));

    const own = holder.json("lock.acquired").find((e) => e.subject === "src/delivered.ts");
    expect(own.data.token).toEqual(expect.any(Number));
    expect(own.session_id).toBe("s-holder");
    expect(watcher.retry).toBe(1000);
    await watcher.close();
    await holder.close();
  });

  it("opens with its position (an id without data): a client cut off before any event resumes from there", async () => {
    const first = await open(app, agentHeaders("early-leaver"), "?kinds=lock.");
    await first.until((r) => r.lastEventId !== null, 20_000, "the position");
    const position = first.lastEventId!;
    expect(first.messages).toEqual([]);
    await first.close();
    // Committed while the client had no connection, after its stream opened: it must not be lost.
    const missed = (await lock(app, "early-writer")).path;
    const again = await open(app, agentHeaders("early-leaver", { "Last-Event-ID": position }), "?kinds=lock.");
    await again.until((r) => r.json("lock.acquired").some((e) => e.subject === missed), 20_000, "the missed event");
    expect(again.json().filter((e) => e.subject === missed)).toHaveLength(1);
    await again.close();
  });

  it("resumes after a disconnect with Last-Event-ID (or ?after): nothing lost, nothing repeated", async () => {
    const first = await open(app, agentHeaders("resumer"));
    await lock(app, "writer-r");
    await lock(app, "writer-r");
    await first.until((r) => r.json("lock.acquired").length >= 2, 20_000, "two events");
    const lastId = first.lastEventId!;
    await first.close();

    const missed: string[] = [];
    for (let i = 0; i < 5; i++) missed.push((await lock(app, "writer-r")).path);

    const again = await open(app, agentHeaders("resumer", { "Last-Event-ID": lastId }));
    await again.until(
      (r) => missed.every((p) => r.json("lock.acquired").some((e) => e.subject === p)),
      20_000,
      "missed",
    );
    const live = (await lock(app, "writer-r")).path;
    await again.until((r) => r.json("lock.acquired").some((e) => e.subject === live), 20_000, "live after resume");
    const ids = again.messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
    expect(ids.every((id) => id > Number(lastId))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // Everything after lastId that the agent may see arrived: the audit query lists the same ids.
    const log = await app.request(`/events/log?after=${lastId}&limit=500`, { headers: agentHeaders("resumer") });
    const logged = ((await log.json()) as { events: Array<{ id: number }> }).events.map((e) => e.id);
    expect(ids.slice(0, logged.length)).toEqual(logged.filter((id) => id <= ids[ids.length - 1]!));
    await again.close();

    const viaQuery = await open(app, agentHeaders("resumer"), `?after=${lastId}&kinds=lock.acquired`);
    await viaQuery.until((r) => r.json("lock.acquired").length >= 6, 20_000, "backlog via ?after");
    expect(viaQuery.json("lock.acquired").map((e) => e.subject)).toEqual([...missed, live]);
    await viaQuery.close();
  });

  it("filters by kind (exact or prefix) and by repository", async () => {
    const locksOnly = await open(app, agentHeaders("f1"), "?kinds=lock.");
    const inRepo = await open(app, agentHeaders("f2"), "?repo=filtered-repo");
    const exact = await open(app, agentHeaders("f3"), "?kinds=task.submitted&kinds=lock.released");
    await lock(app, "f-writer", "filtered-repo", "a.ts");
    const task = await app.request("/work/tasks", {
      method: "POST",
      headers: agentHeaders("f-writer"),
      body: JSON.stringify({ task_type: "filter-test", task_description: "a task" }),
    });
    expect(task.status).toBe(201);
    const rel = await app.request("/locks/release", {
      method: "POST",
      headers: agentHeaders("f-writer"),
      body: JSON.stringify({ repo: "filtered-repo", file_path: "a.ts" }),
    });
    expect(rel.status).toBe(200);

    await exact.until((r) => r.json().length >= 2, 20_000, "task.submitted and lock.released");
    await locksOnly.until((r) => r.json("lock.released").length >= 1, 20_000, "lock.released");
    await inRepo.until((r) => r.json("lock.released").length >= 1, 20_000, "lock.released in the repo");
    expect(locksOnly.messages.every((m) => m.event.startsWith("lock."))).toBe(true);
    expect(inRepo.json().every((e) => e.data.repo === "filtered-repo")).toBe(true);
    expect(exact.messages.map((m) => m.event).sort()).toEqual(["lock.released", "task.submitted"]);
    for (const r of [locksOnly, inRepo, exact]) await r.close();
  });

  it("private events reach their agent and admins only; operator events only admins", async () => {
    const owner = await open(app, agentHeaders("mem-owner"), "?kinds=memory.,task.");
    const other = await open(app, agentHeaders("mem-other"), "?kinds=memory.,task.");
    const admin = await open(app, adminHeaders("ops"), "?kinds=memory.,task.,key.");
    const res = await app.request("/memory", {
      method: "POST",
      headers: agentHeaders("mem-owner"),
      body: JSON.stringify({ summary: "my private note", visibility: "private", event_type: "note" }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    // An operator event about mem-other's own key: admins only.
    await get().db.query("select coord.create_api_key($1, $2, $3, $4, $5, $6)", [
      Math.random().toString(16).slice(2).padEnd(64, "0").slice(0, 64),
      "ac_test",
      "mem-other",
      "agent",
      2,
      "events test",
    ]);
    // A task event closes the sequence: once the others have it, they had their chance at the memory event.
    const submitted = await app.request("/work/tasks", {
      method: "POST",
      headers: agentHeaders("mem-owner"),
      body: JSON.stringify({ task_type: "after-memory", task_description: "marker" }),
    });
    expect(submitted.status).toBe(201);
    for (const r of [owner, other, admin]) await r.until((x) => x.json("task.submitted").length >= 1, 20_000, "marker");
    await admin.until((x) => x.json("key.created").length >= 1, 20_000, "key.created at the admin");

    expect(owner.json("memory.remembered")).toHaveLength(1);
    expect(JSON.stringify(owner.json("memory.remembered"))).not.toContain("my private note");
    expect(other.messages.filter((m) => m.event.startsWith("memory."))).toHaveLength(0);
    expect(admin.json("memory.remembered")).toHaveLength(1);
    expect(other.messages.some((m) => m.event.startsWith("key."))).toBe(false);
    for (const r of [owner, other, admin]) await r.close();

    // The audit query applies the same rule.
    const asOther = await app.request("/events/log?kinds=memory.,key.", { headers: agentHeaders("mem-other") });
    expect(((await asOther.json()) as { events: unknown[] }).events).toEqual([]);
    const asAdmin = await app.request("/events/log?kinds=memory.", { headers: adminHeaders() });
    expect(((await asAdmin.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
  });

  it("a lock forced away by an admin: its holder sees the token and session it lost, other agents do not", async () => {
    const holder = await open(app, agentHeaders("forced-holder"), "?kinds=lock.force_released");
    const other = await open(app, agentHeaders("forced-watcher"), "?kinds=lock.force_released");
    const path = `src/forced-${++fileSeq}.ts`;
    const acquired = await app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("forced-holder", { "X-Session-Id": "forced-holder-s1" }),
      body: JSON.stringify({ file_path: path }),
    });
    const body = (await acquired.json()) as { locks: Array<{ token: number }> };
    const res = await app.request("/locks/release", {
      method: "POST",
      headers: adminHeaders("ops"),
      body: JSON.stringify({ file_path: path, force: true }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    for (const r of [holder, other]) await r.until((x) => x.json().length >= 1, 20_000, "lock.force_released");
    expect(holder.json()[0]).toMatchObject({
      agent_id: "ops",
      subject: path,
      data: { holder: "forced-holder", holder_session: "forced-holder-s1", token: body.locks[0]!.token },
    });
    expect(other.json()[0].data.holder).toBe("forced-holder");
    expect(other.json()[0].data.token).toBeUndefined();
    expect(other.json()[0].data.holder_session).toBeUndefined();
    await holder.close();
    await other.close();
  });

  it("cuts claim tokens of other agents' tasks", async () => {
    const other = await open(app, agentHeaders("claim-watcher"), "?kinds=task.claimed");
    const mine = await open(app, agentHeaders("claimer"), "?kinds=task.claimed");
    const sub = await app.request("/work/tasks", {
      method: "POST",
      headers: agentHeaders("boss"),
      body: JSON.stringify({ task_type: "claim-me", task_description: "x" }),
    });
    expect(sub.status).toBe(201);
    const claim = await app.request("/work/claim", {
      method: "POST",
      headers: agentHeaders("claimer"),
      body: JSON.stringify({ task_types: ["claim-me"] }),
    });
    expect(claim.status, await claim.clone().text()).toBe(200);
    await other.until((r) => r.json("task.claimed").length >= 1, 20_000, "task.claimed");
    await mine.until((r) => r.json("task.claimed").length >= 1, 20_000, "task.claimed");
    expect(other.json("task.claimed")[0].data.claim_token).toBeUndefined();
    expect(mine.json("task.claimed")[0].data.claim_token).toEqual(expect.any(Number));
    await other.close();
    await mine.close();
  });

  it("sends a reset beyond the backlog bound, and for an id the database never handed out", async () => {
    const small = testApp(get().db, { config: eventsConfig({ backlog: 5 }) }).app;
    try {
      const first = await open(small, agentHeaders("slow"), "?kinds=lock.");
      await lock(small, "w-bound");
      await first.until((r) => r.json().length >= 1, 20_000, "one event");
      const last = first.lastEventId!;
      await first.close();
      for (let i = 0; i < 8; i++) await lock(small, "w-bound");
      const back = await open(small, agentHeaders("slow", { "Last-Event-ID": last }), "?kinds=lock.");
      await back.until((r) => r.messages.some((m) => m.event === "reset"), 20_000, "reset");
      const reset = back.messages.find((m) => m.event === "reset")!;
      expect(JSON.parse(reset.data)).toMatchObject({ reason: "backlog_exceeded", max: 5, after: Number(last) });
      expect(Number(reset.id)).toBeGreaterThan(Number(last));
      expect(back.json("lock.acquired")).toEqual([]);
      // After the reset the stream is live: the next event arrives.
      const next = (await lock(small, "w-bound")).path;
      await back.until((r) => r.json("lock.acquired").some((e) => e.subject === next), 20_000, "live after reset");
      await back.close();

      // Within the bound the backlog is replayed instead.
      const within = await open(
        small,
        agentHeaders("slow", { "Last-Event-ID": String(Number(reset.id)) }),
        "?kinds=lock.",
      );
      await within.until((r) => r.json("lock.acquired").some((e) => e.subject === next), 20_000, "replayed");
      expect(within.messages.some((m) => m.event === "reset")).toBe(false);
      await within.close();

      const future = await open(small, agentHeaders("slow", { "Last-Event-ID": "900000000000" }));
      await future.until((r) => r.messages.some((m) => m.event === "reset"), 20_000, "reset for a future id");
      expect(JSON.parse(future.messages.find((m) => m.event === "reset")!.data).reason).toBe("unknown_event_id");
      await future.close();
    } finally {
      await small.close();
    }
  });

  it("sends comment heartbeats, and ends a stream cleanly at its limit; the client resumes without loss", async () => {
    const limited = testApp(get().db, { config: eventsConfig({ heartbeatSeconds: 1, streamSeconds: 3 }) }).app;
    try {
      const r = await open(limited, agentHeaders("hb"), "?kinds=lock.");
      await r.until((x) => x.comments.includes("heartbeat"), 20_000, "a heartbeat");
      await r.end(30_000);
      expect(r.comments.at(-1)).toMatch(/reconnect with Last-Event-ID/);
      const last = r.lastEventId;
      const during = (await lock(limited, "hb-writer")).path;
      const again = await open(
        limited,
        agentHeaders("hb", last ? { "Last-Event-ID": last } : {}),
        last ? "?kinds=lock." : "?kinds=lock.&after=0",
      );
      await again.until(
        (x) => x.json("lock.acquired").some((e) => e.subject === during),
        20_000,
        "event between streams",
      );
      await again.close();
    } finally {
      await limited.close();
    }
  });

  it("ends streams before the host's wall clock runs out (an edge worker's limit)", async () => {
    // 90 % of a 4 s wall clock, counted from the app's start: streams opened now end within about 3.6 s.
    const edge = testApp(get().db, { config: eventsConfig({ wallClockSeconds: 4 }) }).app;
    try {
      const r = await open(edge, agentHeaders("edge-client"));
      await r.end(30_000);
      expect(r.comments.at(-1)).toMatch(/reconnect with Last-Event-ID/);
    } finally {
      await edge.close();
    }
  });

  it("ends open streams when the app stops", async () => {
    const stopping = testApp(get().db, { config: eventsConfig() }).app;
    const r = await open(stopping, agentHeaders("stopper"));
    await stopping.close();
    await r.end(20_000);
    expect(r.comments.at(-1)).toMatch(/server stopping/);
  });

  it("pages the audit log by cursor, newest first or oldest first, with kind, repo and time filters", async () => {
    for (let i = 0; i < 7; i++) await lock(app, "auditor-w", "audit-repo");
    const pages = async (order: string) => {
      const ids: number[] = [];
      let cursor: string | null = null;
      let n = 0;
      do {
        const q = new URLSearchParams({ repo: "audit-repo", kinds: "lock.acquired", limit: "3", order });
        if (cursor) q.set("cursor", cursor);
        const res = await app.request(`/events/log?${q}`, { headers: agentHeaders("auditor") });
        expect(res.status, await res.clone().text()).toBe(200);
        const body = (await res.json()) as {
          events: Array<{ id: number; data: { repo: string } }>;
          next_cursor: string | null;
        };
        expect(body.events.every((e) => e.data.repo === "audit-repo")).toBe(true);
        ids.push(...body.events.map((e) => e.id));
        cursor = body.next_cursor;
      } while (cursor && ++n < 10);
      return ids;
    };
    const desc = await pages("desc");
    const asc = await pages("asc");
    expect(desc).toHaveLength(7);
    expect(new Set(desc).size).toBe(7);
    expect(asc).toEqual([...desc].reverse());

    const json = await app.request("/events?format=json&repo=audit-repo&limit=2", { headers: agentHeaders("auditor") });
    expect(json.status).toBe(200);
    expect(((await json.json()) as { events: Array<{ id: number }> }).events.map((e) => e.id)).toEqual(
      desc.slice(0, 2),
    );

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await app.request(`/events/log?repo=audit-repo&since=${encodeURIComponent(future)}`, {
      headers: agentHeaders("auditor"),
    });
    expect(((await none.json()) as { events: unknown[] }).events).toEqual([]);
    const badCursor = await app.request("/events/log?cursor=nonsense", { headers: agentHeaders("auditor") });
    expect(badCursor.status).toBe(400);
  });
});

forEachDatabase("GET /events with 200 subscribers over HTTP", (get) => {
  let app: App;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    app = testApp(get().db, { config: eventsConfig() }).app;
    server = await listen(app);
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it("fans every event out to 200 concurrent streams, once each, in order", async () => {
    const N = 200;
    const readers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await fetch(`${server.url}/events?kinds=lock.acquired`, {
          headers: { Authorization: `Bearer ${ADMIN_KEY}`, "X-Agent-Id": `sub-${i}` },
        });
        expect(res.status).toBe(200);
        return new SseReader(res.body!);
      }),
    );
    expect(eventsState(app.deps).feed.size).toBe(N);
    const EVENTS = 20;
    const sentAt = new Map<string, number>();
    for (let i = 0; i < EVENTS; i++) {
      const path = `fan/out-${i}.ts`;
      sentAt.set(path, performance.now());
      await lock(app, "fan-writer", "default", path);
    }
    await Promise.all(readers.map((r) => r.until((x) => x.json().length >= EVENTS, 60_000, "all events")));
    const latencies: number[] = [];
    for (const r of readers) {
      const got = r.json();
      expect(got.map((e) => e.subject)).toEqual([...sentAt.keys()]);
      r.messages.forEach((m) => {
        const subject = JSON.parse(m.data).subject as string;
        latencies.push(r.opened + m.at - sentAt.get(subject)!);
      });
    }
    console.log(
      `[events ${get().kind}] ${N} subscribers × ${EVENTS} events: delivery p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    // A generous ceiling: delivered while the test waits, whatever the machine's load.
    expect(Math.max(...latencies)).toBeLessThan(60_000);
    await Promise.all(readers.map((r) => r.close()));
    const until = Date.now() + 20_000;
    while (eventsState(app.deps).feed.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(eventsState(app.deps).feed.size).toBe(0);
  }, 120_000);
});

describe("events configuration", () => {
  it("streams end before Supabase's wall clock on the edge host and never on the Node host by default", async () => {
    const { loadConfig, EDGE_DEFAULTS, NODE_DEFAULTS } = await import("../config.ts");
    expect(loadConfig({}, EDGE_DEFAULTS).events).toMatchObject({ streamSeconds: 120, wallClockSeconds: 150 });
    expect(loadConfig({}, NODE_DEFAULTS).events).toMatchObject({ streamSeconds: 0, wallClockSeconds: 0 });
    expect(loadConfig({ COORDINATOR_WALL_CLOCK_SECONDS: "400" }, EDGE_DEFAULTS).events.wallClockSeconds).toBe(400);
    expect(() => loadConfig({ COORDINATOR_EVENTS_BACKLOG: "0" }, EDGE_DEFAULTS)).toThrow(/COORDINATOR_EVENTS_BACKLOG/);
  });
});
