/**
 * `client.events()`: the SSE parser on every way a stream can be cut into chunks, then the iterator against a real
 * listening server (both databases) whose streams end every second — the ids received across the reconnects equal
 * the recorded events exactly, in order — the backlog `reset`, and a refusal. Retry behaviour (503 with Retry-After,
 * a silent connection) against a real HTTP server whose answers the test scripts, as the call retries are tested.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_KEY, forEachDatabase, testApp, testConfig } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import type { AppConfig } from "../../functions-src/config.ts";
import { AgentCoordinationClient, CoordinatorError, ServerSentEventParser, type StreamEvent } from "./index.ts";

const SAMPLE =
  "retry: 1000\r\n\r\n" +
  ": heartbeat\n\n" +
  'id: 7\nevent: lock.acquired\ndata: {"id":7,"kind":"lock.acquired"}\n\n' +
  "id: 8\revent: multi\rdata: line one\rdata:line two\r\r" +
  "data: no id or event\r\n\r\n" +
  "id: 9\n\n" +
  "event: ignored-without-data\n\n" +
  'id: 10\nevent: reset\ndata: {"reason":"backlog_exceeded","cursor":10}\n\n' +
  "data: unfinished";

const EXPECTED = [
  { event: "lock.acquired", data: '{"id":7,"kind":"lock.acquired"}', lastEventId: "7" },
  { event: "multi", data: "line one\nline two", lastEventId: "8" },
  { event: "message", data: "no id or event", lastEventId: "8" },
  { event: "reset", data: '{"reason":"backlog_exceeded","cursor":10}', lastEventId: "10" },
];

describe("ServerSentEventParser", () => {
  it("parses the format's line endings, comments, multi-line data, ids and retry", () => {
    const p = new ServerSentEventParser();
    expect(p.feed(SAMPLE)).toEqual(EXPECTED);
    expect(p.retry).toBe(1000);
    expect(p.committedId).toBe("10");
  });

  it("gives the same events however the stream is cut into chunks (a CR may end one chunk, its LF start the next)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: SAMPLE.length - 1 }), { maxLength: 12 }), (cuts) => {
        const p = new ServerSentEventParser();
        const points = [0, ...cuts.sort((a, b) => a - b), SAMPLE.length];
        const out = points.slice(1).flatMap((end, i) => p.feed(SAMPLE.slice(points[i], end)));
        expect(out).toEqual(EXPECTED);
        expect(p.committedId).toBe("10");
      }),
      { numRuns: 300 },
    );
  });

  it("does not commit an id whose message is still incomplete", () => {
    const p = new ServerSentEventParser();
    p.feed("id: 3\ndata: x\n\nid: 4\ndata: half");
    expect(p.lastEventId).toBe("4");
    expect(p.committedId).toBe("3");
  });
});

/** The events config for these tests: streams end after `streamSeconds`, no wall clock. */
function eventsConfig(overrides: Partial<AppConfig["events"]>): Partial<AppConfig> {
  return { events: { ...testConfig().events, streamSeconds: 0, wallClockSeconds: 0, ...overrides } };
}

forEachDatabase("client.events() against a real server", (get) => {
  const lastId = async () =>
    Number((await get().db.query<{ n: string }>("select coalesce(max(id), 0)::text as n from coord.events"))[0]!.n);

  it("resumes across server-side stream ends without loss or repeat", { timeout: 180_000 }, async () => {
    const { app } = testApp(get().db, { config: eventsConfig({ streamSeconds: 1 }) });
    const server = await listen(app);
    const writer = new AgentCoordinationClient({ baseUrl: server.url, apiKey: AGENT_KEY, agentId: "ev-writer" });
    const reader = new AgentCoordinationClient({ baseUrl: server.url, apiKey: AGENT_KEY, agentId: "ev-reader" });
    try {
      const start = await lastId();
      let opens = 0;
      const stream = reader.events({ kinds: ["lock."], after: start, onOpen: () => opens++ });
      const received: number[] = [];
      let stopAt = Number.POSITIVE_INFINITY;
      const consuming = (async () => {
        for await (const e of stream) {
          received.push(e.id);
          if (e.id >= stopAt) break;
        }
      })();
      // Write until the reader has been through at least three streams (two server-side ends), however slow the
      // machine: each lock pair is two events.
      let n = 0;
      while (opens < 3 || n < 20) {
        const path = `events/resume-${n++}.ts`;
        await writer.acquireLock({ file_path: path, reason: "resume test" });
        await writer.releaseLock({ file_path: path });
        await new Promise((r) => setTimeout(r, 50));
      }
      stopAt = await lastId();
      // The loop may have passed the last id before it was known.
      if ((received.at(-1) ?? 0) >= stopAt) stream.close();
      await Promise.race([
        consuming,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`stuck at ${received.at(-1)}`)), 60_000)),
      ]);
      const recorded = (
        await get().db.query<{ n: string }>(
          "select id::text as n from coord.events where id > $1 and id <= $2 and kind like 'lock.%' order by id",
          [start, stopAt],
        )
      ).map((r) => Number(r.n));
      expect(opens).toBeGreaterThanOrEqual(3);
      expect(received).toEqual(recorded);
      expect(new Set(received).size).toBe(received.length);
      expect(stream.lastEventId).toBe(String(received.at(-1)));
    } finally {
      await server.close();
      await app.close();
    }
  });

  it("yields a reset when the backlog bound is passed, then continues live", { timeout: 60_000 }, async () => {
    const { app } = testApp(get().db, { config: eventsConfig({ backlog: 2 }) });
    const server = await listen(app);
    const c = new AgentCoordinationClient({ baseUrl: server.url, apiKey: AGENT_KEY, agentId: "ev-reset" });
    try {
      const start = await lastId();
      for (let i = 0; i < 4; i++) await c.acquireLock({ file_path: `events/reset-${i}.ts` });
      const stream = c.events({ kinds: ["lock."], after: start });
      const seen: StreamEvent[] = [];
      for await (const e of stream) {
        seen.push(e);
        if (e.kind === "reset") await c.acquireLock({ file_path: "events/after-reset.ts" });
        if (e.kind === "lock.acquired" && e.subject === "events/after-reset.ts") break;
      }
      expect(seen[0]).toMatchObject({ kind: "reset", data: { reason: "backlog_exceeded", after: start, max: 2 } });
      expect(seen[0]!.id).toBeGreaterThan(start);
      expect(seen.slice(1).every((e) => e.id > seen[0]!.id)).toBe(true);
    } finally {
      await server.close();
      await app.close();
    }
  });

  it("ends with the refusal when the server refuses the key (no retry)", async () => {
    const { app } = testApp(get().db);
    const server = await listen(app);
    try {
      const c = new AgentCoordinationClient({ baseUrl: server.url, apiKey: "wrong-key-000000000000", agentId: "x" });
      const err = await (async () => {
        for await (const _ of c.events()) return null;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CoordinatorError);
      expect(err).toMatchObject({ status: 401, code: "invalid_key" });
    } finally {
      await server.close();
      await app.close();
    }
  });

  it("sends the agent's identity: its own session id comes back on its events", { timeout: 60_000 }, async () => {
    const { app } = testApp(get().db);
    const server = await listen(app);
    const mine = new AgentCoordinationClient({
      baseUrl: server.url,
      apiKey: AGENT_KEY,
      agentId: "ev-owner",
      sessionId: "ev-owner-s1",
    });
    const other = new AgentCoordinationClient({ baseUrl: server.url, apiKey: AGENT_KEY, agentId: "ev-other" });
    try {
      let opened!: () => void;
      const open = new Promise<void>((r) => (opened = r));
      const ownStream = mine.events({ kinds: ["lock.acquired"], onOpen: () => opened() });
      const otherStream = other.events({ kinds: ["lock.acquired"] });
      const first = (async () => {
        for await (const e of ownStream) if (e.subject === "events/own.ts") return e;
      })();
      const seenByOther = (async () => {
        for await (const e of otherStream) if (e.subject === "events/own.ts") return e;
      })();
      await open;
      await mine.heartbeat();
      await mine.acquireLock({ file_path: "events/own.ts" });
      const [own, theirs] = await Promise.all([first, seenByOther]);
      expect(own).toMatchObject({ agent_id: "ev-owner", session_id: "ev-owner-s1" });
      expect((own as { data: Record<string, unknown> }).data.token).toEqual(expect.any(Number));
      expect(theirs).not.toHaveProperty("session_id");
      expect((theirs as { data: Record<string, unknown> }).data).not.toHaveProperty("token");
    } finally {
      await server.close();
      await app.close();
    }
  });
});

/**
 * Retries against a real HTTP server whose answers the test scripts: each request takes the next step (a 503 with
 * Retry-After, an event stream that sends the given text and ends, or one that sends headers and then nothing).
 */
describe("client.events() retries", () => {
  type Step = { status: 503; retryAfter: string } | { sse: string } | "silent";
  let server: Server;
  let url: string;
  let plan: Step[] = [];
  const seen: Array<{ lastEventId: string | undefined; path: string }> = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ lastEventId: req.headers["last-event-id"] as string | undefined, path: req.url! });
      const step = plan.shift() ?? "silent";
      if (step === "silent") {
        res.writeHead(200, { "Content-Type": "text/event-stream" });
        res.flushHeaders();
        return;
      }
      if ("status" in step) {
        res.writeHead(503, { "Content-Type": "application/json", "Retry-After": step.retryAfter });
        res.end(JSON.stringify({ error: { code: "unavailable", message: "database unavailable" } }));
        return;
      }
      res.writeHead(200, { "Content-Type": "text/event-stream" }).end(step.sse);
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const event = (id: number) =>
    `id: ${id}\nevent: lock.acquired\ndata: ${JSON.stringify({ id, kind: "lock.acquired", occurred_at: "t", agent_id: "a", subject: `f${id}`, data: {} })}\n\n`;

  it("waits out a 503's Retry-After, resumes after a server end and after a silent connection, with Last-Event-ID", async () => {
    plan = [
      { status: 503, retryAfter: "0" },
      { sse: `retry: 10\n\n${event(1)}${event(2)}` },
      "silent",
      { sse: event(3) },
    ];
    seen.length = 0;
    const errors: string[] = [];
    const c = new AgentCoordinationClient({ baseUrl: url, apiKey: "k", agentId: "a" });
    const stream = c.events({
      kinds: ["lock.", "task."],
      after: 0,
      idleTimeoutMs: 300,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      onError: (e) => errors.push(e.code),
    });
    const ids: number[] = [];
    for await (const e of stream) {
      ids.push(e.id);
      if (e.id === 3) break;
    }
    expect(ids).toEqual([1, 2, 3]);
    expect(seen.map((s) => s.lastEventId)).toEqual(["0", "0", "2", "2"]);
    expect(seen[0]!.path).toBe("/events?kinds=lock.%2Ctask.");
    expect(errors).toEqual(["unavailable", "idle"]);
  });

  it("resumes from the position the server opened with, when no event came before the cut", async () => {
    plan = [{ sse: "retry: 10\nid: 41\n\n: nothing yet\n\n" }, { sse: event(42) }];
    seen.length = 0;
    const c = new AgentCoordinationClient({ baseUrl: url, apiKey: "k", agentId: "a" });
    const stream = c.events();
    for await (const e of stream) {
      expect(e.id).toBe(42);
      break;
    }
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, "41"]);
  });

  it("gives up after the configured number of consecutive failures", async () => {
    plan = [
      { status: 503, retryAfter: "0" },
      { status: 503, retryAfter: "0" },
      { status: 503, retryAfter: "0" },
    ];
    seen.length = 0;
    const c = new AgentCoordinationClient({ baseUrl: url, apiKey: "k", agentId: "a" });
    const err = await (async () => {
      for await (const _ of c.events({ retry: { retries: 2, baseDelayMs: 5 } })) return null;
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "unavailable" });
    expect(seen).toHaveLength(3);
  });

  it("ends quietly when the caller closes the stream or aborts its signal", async () => {
    plan = ["silent", "silent"];
    const c = new AgentCoordinationClient({ baseUrl: url, apiKey: "k", agentId: "a" });
    const stream = c.events();
    const done = (async () => {
      for await (const _ of stream) return "event";
      return "ended";
    })();
    while (!stream.connected) await new Promise((r) => setTimeout(r, 10));
    stream.close();
    expect(await done).toBe("ended");

    const controller = new AbortController();
    const aborted = c.events({ signal: controller.signal });
    const done2 = (async () => {
      for await (const _ of aborted) return "event";
      return "ended";
    })();
    while (!aborted.connected) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await done2).toBe("ended");
  });
});
