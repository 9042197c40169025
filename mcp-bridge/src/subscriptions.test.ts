/**
 * MCP subscriptions through the bridge. What an event means to a session (`interpret`) and the debouncer, as pure
 * functions; then real bridge processes (the bundle as it ships) spoken to by the MCP SDK client over stdio, against a
 * real listening server on PGlite and, with DATABASE_URL, Postgres: a subscriber to `locks://current` hears another
 * agent's lock, and lost-lock and lost-claim messages reach the session that lost them and no other — two bridges of
 * the same agent, each asserted by the order of the events (never by waiting for silence).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { AgentCoordinationClient, type CoordinatorEvent } from "../../client/src/index.ts";
import { ADMIN_KEY, AGENT_KEY, forEachDatabase, resourceJson, testApp } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { type Claims, Debouncer, interpret, type Me } from "./subscriptions.ts";
import { builtBridge, eventually, privateDir, removeTemporary } from "./testing.ts";

const me: Me = { agentId: "twin", sessionId: "twin-1" };
let nextId = 100;
function ev(kind: string, fields: Partial<CoordinatorEvent> = {}): CoordinatorEvent {
  return {
    id: ++nextId,
    kind,
    occurred_at: "2025-06-01T14:03:11Z",
    agent_id: "twin",
    session_id: "twin-1",
    subject: "src/a.ts",
    data: {},
    ...fields,
  };
}

describe("interpret: what an event means to one session", () => {
  it("announces resource changes by kind; heartbeat renewals change nothing an agent reads", () => {
    const claims: Claims = new Map();
    expect(interpret(ev("lock.acquired", { agent_id: "other" }), me, claims).resources).toEqual(["locks://current"]);
    expect(interpret(ev("lock.renewed"), me, claims).resources).toEqual([]);
    expect(interpret(ev("task.submitted"), me, claims).resources).toEqual(["work://pending"]);
    expect(interpret(ev("task.renewed"), me, claims).resources).toEqual([]);
    expect(interpret(ev("verification.verified"), me, claims).resources).toEqual([]);
    const reset = { id: 5, kind: "reset" as const, occurred_at: null, agent_id: null, subject: null };
    expect(interpret({ ...reset, data: { reason: "backlog_exceeded", cursor: 5 } }, me, claims).resources).toEqual([
      "locks://current",
      "work://pending",
    ]);
  });

  it("a lost lock is told to its own session only, not to the agent's other session nor another agent", () => {
    const claims: Claims = new Map();
    const expired = ev("lock.expired", { data: { repo: "acme/app", token: 7, cause: "session_expired" } });
    expect(interpret(expired, me, claims).message).toMatchObject({
      level: "warning",
      about: "lock_lost",
      subject: "src/a.ts",
      token: 7,
      cause: "session_expired",
      message: expect.stringContaining(
        "Lock on src/a.ts in repo acme/app (token 7) lost: this session sent no heartbeat",
      ),
    });
    expect(interpret({ ...expired, session_id: "twin-2" }, me, claims).message).toBeNull();
    expect(interpret({ ...expired, agent_id: "other" }, me, claims).message).toBeNull();
    // Released because its own session ended: given up, not taken.
    expect(interpret(ev("lock.expired", { data: { cause: "session_ended" } }), me, claims).message).toBeNull();

    const forced = ev("lock.force_released", {
      agent_id: "ops",
      session_id: null,
      data: { holder: "twin", holder_session: "twin-1", token: 9 },
    });
    expect(interpret(forced, me, claims).message?.message).toContain("an admin (ops) force-released it");
    expect(interpret({ ...forced, data: { ...forced.data, holder_session: "twin-2" } }, me, claims).message).toBeNull();
  });

  it("claims: tracked from the session's own task.claimed; lost, cancelled, handed over", () => {
    const claims: Claims = new Map();
    expect(
      interpret(ev("task.claimed", { subject: "t1", data: { claim_token: 3, attempt: 1 } }), me, claims).message,
    ).toBeNull();
    expect(claims.get("t1")).toBe(3);
    // The agent's other session claims t2: not this session's.
    interpret(
      ev("task.claimed", { subject: "t2", session_id: "twin-2", data: { claim_token: 4, attempt: 1 } }),
      me,
      claims,
    );
    expect(claims.has("t2")).toBe(false);

    const cancelled = (subject: string) =>
      ev("task.cancelled", {
        subject,
        agent_id: "boss",
        session_id: null,
        data: { was_claimed_by: "twin", reason: "dup" },
      });
    expect(interpret(cancelled("t2"), me, claims).message).toBeNull();
    expect(interpret(cancelled("t1"), me, claims).message).toMatchObject({
      about: "claim_lost",
      cause: "cancelled",
      message: expect.stringContaining("cancelled by boss (dup)"),
    });
    expect(claims.has("t1")).toBe(false);

    interpret(ev("task.claimed", { subject: "t3", data: { claim_token: 5, attempt: 1 } }), me, claims);
    const released = ev("task.released", { subject: "t3", data: { reason: "lease expired", lost_by: "twin" } });
    expect(interpret(released, me, claims).message?.message).toMatch(
      /^Claim on task t3 lost: lease expired; it went back/,
    );
    expect(claims.has("t3")).toBe(false);
    // The agent's own failure report (no lost_by) is not a loss.
    expect(
      interpret(ev("task.failed", { subject: "t3", data: { reason: "max_attempts" } }), me, claims).message,
    ).toBeNull();

    const handed = ev("task.claimed", { subject: "t4", data: { claim_token: 8, attempt: 2 } });
    expect(interpret(handed, me, claims).message).toMatchObject({
      level: "info",
      about: "task_handed_over",
      attempt: 2,
    });
  });

  it("changesets of this agent: its session's, or the agent's sessionless ones", () => {
    const claims: Claims = new Map();
    const verified = ev("verification.verified", {
      subject: "cs-1",
      data: { repo: "acme/app", commit_sha: "a".repeat(40), tier: 2 },
    });
    expect(interpret(verified, me, claims).message).toMatchObject({ level: "info", about: "changeset_verified" });
    const rejected = { ...verified, kind: "verification.rejected" };
    expect(interpret(rejected, me, claims).message).toMatchObject({ level: "warning", about: "changeset_rejected" });
    expect(interpret({ ...verified, session_id: "twin-2" }, me, claims).message).toBeNull();
    expect(interpret({ ...verified, session_id: null }, me, claims).message).not.toBeNull();
    expect(interpret({ ...verified, agent_id: "other" }, me, claims).message).toBeNull();
  });
});

describe("Debouncer", () => {
  it("announces a burst once per window, per key, and always the last change", () => {
    vi.useFakeTimers();
    try {
      const fired: string[] = [];
      const d = new Debouncer(100, (k) => fired.push(k));
      for (let i = 0; i < 10; i++) d.touch("locks://current");
      d.touch("work://pending");
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(100);
      expect(fired).toEqual(["locks://current", "work://pending"]);
      d.touch("locks://current");
      vi.advanceTimersByTime(50);
      d.touch("locks://current");
      vi.advanceTimersByTime(50);
      expect(fired).toEqual(["locks://current", "work://pending", "locks://current"]);
      d.touch("work://pending");
      d.cancel("work://pending");
      vi.advanceTimersByTime(500);
      expect(fired).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

// Child processes start slowly on a loaded machine: waits end when their condition holds, under generous ceilings.
const SETTLE_MS = 60_000;

interface Heard {
  client: Client;
  updated: string[];
  messages: Array<Record<string, any>>;
}

forEachDatabase("subscriptions through the bridge", (get) => {
  let BIN: string;
  let RUNTIME: string;
  let server: { url: string; close(): Promise<void> };
  const started: Client[] = [];

  beforeAll(async () => {
    BIN = await builtBridge();
    RUNTIME = privateDir();
    server = await listen(testApp(get().db).app);
  });
  afterAll(async () => {
    for (const c of started) await c.close().catch(() => {});
    await server.close();
    removeTemporary();
  });

  /** A bridge process for `agent` in `session`, and what its MCP client hears. */
  async function bridge(agent: string, session: string): Promise<Heard> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      stderr: "pipe",
      env: {
        PATH: process.env.PATH!,
        XDG_RUNTIME_DIR: RUNTIME,
        COORDINATOR_URL: server.url,
        COORDINATION_API_KEY: AGENT_KEY,
        AGENT_ID: agent,
        SESSION_ID: session,
      },
    });
    const client = new Client({ name: "subscriptions-test", version: "1.0.0" });
    const heard: Heard = { client, updated: [], messages: [] };
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void heard.updated.push(n.params.uri));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void heard.messages.push(n.params));
    await client.connect(transport);
    started.push(client);
    return heard;
  }

  const rest = (agentId: string, apiKey = AGENT_KEY) =>
    new AgentCoordinationClient({ baseUrl: server.url, apiKey, agentId });

  it("a client subscribed to locks://current hears another agent lock a file; unsubscribed, it hears no more", {
    timeout: 180_000,
  }, async () => {
    const sub = await bridge("watcher", `watcher-${get().kind}`);
    const caps = sub.client.getServerCapabilities();
    expect(caps?.resources).toMatchObject({ subscribe: true });
    expect(caps?.logging).toBeDefined();
    // The bridge declares no tool of its own: the list is the server's.
    expect((await sub.client.listTools()).tools.map((t) => t.name)).toContain("acquire_lock");

    await sub.client.subscribeResource({ uri: "locks://current" });
    const other = rest("locker");
    const path = `subs/${get().kind}/a.ts`;
    await other.acquireLock({ file_path: path, reason: "subscription test" });
    expect(await eventually(() => sub.updated.includes("locks://current"), SETTLE_MS)).toBe(true);
    const locks = resourceJson(await sub.client.readResource({ uri: "locks://current" }));
    expect(JSON.stringify(locks)).toContain(path);

    // Now only work://pending: a lock and then a task. The task's announcement comes after the lock's would have.
    await sub.client.subscribeResource({ uri: "work://pending" });
    await sub.client.unsubscribeResource({ uri: "locks://current" });
    const before = sub.updated.length;
    await other.acquireLock({ file_path: `subs/${get().kind}/b.ts` });
    await other.submitWork({ task_type: `subs-${get().kind}`, task_description: "announce me" });
    expect(await eventually(() => sub.updated.slice(before).includes("work://pending"), SETTLE_MS)).toBe(true);
    expect(sub.updated.slice(before)).toEqual(["work://pending"]);

    // Only the subscribable resources can be subscribed to.
    await expect(sub.client.subscribeResource({ uri: "coordinator://status" })).rejects.toThrow(
      /cannot be subscribed to: subscribe to locks:\/\/current or work:\/\/pending/,
    );
    await expect(sub.client.setLoggingLevel("warning")).resolves.toBeDefined();
  });

  it("a lost lock or claim is told to the session that lost it, not to the same agent's other session", {
    timeout: 180_000,
  }, async () => {
    const agent = `twin-${get().kind}`;
    const one = await bridge(agent, `${agent}-1`);
    const two = await bridge(agent, `${agent}-2`);
    const admin = rest("ops", ADMIN_KEY);
    const file = (n: number) => `twins/${get().kind}/${n}.ts`;
    const lockVia = async (h: Heard, n: number) => {
      const r = await h.client.callTool({ name: "acquire_lock", arguments: { file_path: file(n) } });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    };
    const lost = (h: Heard, about: string, subject: string) =>
      h.messages.filter((m) => m.data?.about === about && m.data?.subject === subject);

    // Each session holds a lock (its first tool call opens its event stream).
    await lockVia(one, 1);
    await lockVia(two, 2);
    await lockVia(one, 3);

    await admin.releaseLock({ file_path: file(1), force: true });
    expect(await eventually(() => lost(one, "lock_lost", file(1)).length > 0, SETTLE_MS)).toBe(true);
    expect(lost(one, "lock_lost", file(1))[0]).toMatchObject({
      level: "warning",
      logger: "agent-coordinator",
      data: { cause: "force_released", message: expect.stringContaining(`Stop editing ${file(1)}`) },
    });

    // Session two loses its own lock: it hears that one, and (events come in order) never heard the first.
    await admin.releaseLock({ file_path: file(2), force: true });
    expect(await eventually(() => lost(two, "lock_lost", file(2)).length > 0, SETTLE_MS)).toBe(true);
    expect(lost(two, "lock_lost", file(1))).toEqual([]);
    // And session one, told about its next loss, was never told about two's.
    await admin.releaseLock({ file_path: file(3), force: true });
    expect(await eventually(() => lost(one, "lock_lost", file(3)).length > 0, SETTLE_MS)).toBe(true);
    expect(lost(one, "lock_lost", file(2))).toEqual([]);

    // A claim cancelled by its submitter: only the session working on it hears it.
    const boss = rest("boss");
    const type = `twins-${get().kind}`;
    const { id } = await boss.submitWork({ task_type: type, task_description: "do it once" });
    const claimed = await one.client.callTool({ name: "get_work", arguments: { task_types: [type] } });
    expect((claimed.structuredContent as { tasks: Array<{ id: string }> }).tasks[0]!.id).toBe(id);
    await boss.cancelWork({ task_id: id, reason: "not needed" });
    expect(await eventually(() => lost(one, "claim_lost", id).length > 0, SETTLE_MS)).toBe(true);
    expect(lost(one, "claim_lost", id)[0]!.data.message).toContain("cancelled by boss (not needed)");
    // Two hears its next loss, and nothing of one's claim before it.
    await lockVia(two, 4);
    await admin.releaseLock({ file_path: file(4), force: true });
    expect(await eventually(() => lost(two, "lock_lost", file(4)).length > 0, SETTLE_MS)).toBe(true);
    expect(lost(two, "claim_lost", id)).toEqual([]);
    expect(two.messages.map((m) => m.data.subject)).toEqual([file(2), file(4)]);
  });
});
