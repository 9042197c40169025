/**
 * Liveness with real processes: a bridge killed with SIGKILL (what a crashed or closed terminal does) while holding a
 * lock and a claim, and a bridge whose network goes silent (a TCP proxy that stops forwarding). On PGlite and, with
 * DATABASE_URL, on Postgres. The server runs with a short COORDINATOR_SESSION_TIMEOUT_SECONDS and the bridges with a
 * short BRIDGE_HEARTBEAT_MS; every bound is asserted against that configuration (and read from the database's
 * clock), never against a fixed wall-clock number.
 *
 * COORD_LIVENESS_TIMEOUT_S and COORD_LIVENESS_HEARTBEAT_MS override the two for a measurement run, e.g. the defaults:
 *   COORD_LIVENESS_TIMEOUT_S=90 COORD_LIVENESS_HEARTBEAT_MS=30000 npx vitest run mcp-bridge/src/liveness.test.ts -t SIGKILL
 */
import { createServer, type Server, type Socket, connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { AGENT_KEY, forEachDatabase, testApp } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { builtBridge, privateDir, removeTemporary } from "./testing.ts";

// The bridge as it ships (dist/mcp-bridge.js built from these sources), with its session files in a private folder.
let BIN = "";
let RUNTIME = "";
beforeAll(async () => {
  BIN = await builtBridge();
  RUNTIME = privateDir();
});
afterAll(() => removeTemporary());
const TIMEOUT_S = Number(process.env.COORD_LIVENESS_TIMEOUT_S ?? 4);
const HEARTBEAT_MS = Number(process.env.COORD_LIVENESS_HEARTBEAT_MS ?? 1000);
/** Generous ceilings for a loaded machine: these bound the test, the assertions bound the behaviour. */
const TEST_MS = (TIMEOUT_S * 1000 + HEARTBEAT_MS) * 3 + 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ToolResult = { isError?: boolean; content: Array<{ type: string; text: string }>; structuredContent?: any };

/** A real bridge process, spoken to over stdio by an MCP client, as an agent host does. */
async function startBridge(url: string, agent: string, session: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    stderr: "pipe",
    env: {
      PATH: process.env.PATH!,
      XDG_RUNTIME_DIR: RUNTIME,
      COORDINATOR_URL: url,
      COORDINATION_API_KEY: AGENT_KEY,
      AGENT_ID: agent,
      AGENT_TYPE: "claude_code",
      SESSION_ID: session,
      BRIDGE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    },
  });
  const client = new Client({ name: "liveness-test", version: "1.0.0" });
  // What the bridge tells this session from its event stream (notifications/message).
  const messages: Array<Record<string, any>> = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params.data as object));
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: TEST_MS })) as ToolResult;
  return { client, transport, call, messages };
}

/**
 * A TCP proxy that can stop forwarding (a network partition: bytes vanish, connections stay open) and resume. On
 * resume the connections that lived through the silence are cut, as a partition's half-dead connections end, so
 * clients reconnect.
 */
async function partitionProxy(target: URL) {
  let silent = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect(Number(target.port), target.hostname);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    down.on("data", (d) => void (!silent && up.write(d)));
    up.on("data", (d) => void (!silent && down.write(d)));
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stop() {
      silent = true;
    },
    resume() {
      for (const s of sockets) s.destroy();
      silent = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

forEachDatabase("bridge liveness", (get) => {
  const env = { COORDINATOR_SESSION_TIMEOUT_SECONDS: String(TIMEOUT_S) };

  it(
    "SIGKILL while holding a lock and a claim: another agent gets both within the timeout plus one heartbeat interval",
    async () => {
      const db = get().db;
      const server = await listen(testApp(db, { env }).app);
      const a = await startBridge(server.url, "kill-a", `kill-a-${get().kind}`);
      const b = await startBridge(server.url, "kill-b", `kill-b-${get().kind}`);
      try {
        const repo = `kill-${get().kind}`;
        const locked = await a.call("acquire_lock", { repo, file_path: "src/c.ts", reason: "implementing parser" });
        expect(locked.isError).toBeFalsy();
        await b.call("submit_work", { task_type: repo, task_description: "implement the parser" });
        const claimed = await a.call("get_work", { task_types: [repo] });
        const task = claimed.structuredContent.tasks[0];
        expect(task).toBeTruthy();
        // B is refused while A lives, and told A is alive.
        const refused = await b.call("acquire_lock", { repo, file_path: "src/c.ts" });
        expect(refused.isError).toBe(true);
        expect(refused.content[0]!.text).toMatch(/src\/c\.ts by kill-a \(alive, last heartbeat \d+ s ago\)/);

        const killedAt = (await db.query<{ t: string }>("select now()::text as t"))[0]!.t;
        const killedMs = Date.now();
        process.kill(a.transport.pid!, "SIGKILL");

        // B waits the way an agent would: wait_seconds on the lock, then on the queue.
        let lock: any;
        while (!lock) {
          const r = await b.call("acquire_lock", { repo, file_path: "src/c.ts", wait_seconds: 20 });
          if (!r.isError) lock = r.structuredContent.locks[0];
        }
        const lockMs = Date.now() - killedMs;
        let got: any;
        while (!got) {
          const r = await b.call("get_work", { task_types: [repo], wait_seconds: 20 });
          got = r.structuredContent.tasks[0];
        }
        const claimMs = Date.now() - killedMs;
        expect(got.id).toBe(task.id);
        expect(got.handoff).toMatchObject({ agent_id: "kill-a", why: "session expired" });

        // The bound, on the database's clock: both granted within timeout + one heartbeat interval of the kill ...
        const [t] = await db.query<{ lock_s: number; claim_s: number; early_s: number }>(
          `select extract(epoch from $1::timestamptz - $3::timestamptz)::float8 as lock_s,
                  extract(epoch from $2::timestamptz - $3::timestamptz)::float8 as claim_s,
                  extract(epoch from $1::timestamptz - s.live_until)::float8 as early_s
             from coord.sessions s where s.agent_id = 'kill-a'`,
          [lock.acquired_at, got.claimed_at, killedAt],
        );
        const bound = TIMEOUT_S + HEARTBEAT_MS / 1000;
        expect(t!.lock_s).toBeLessThanOrEqual(bound);
        expect(t!.claim_s).toBeLessThanOrEqual(bound);
        // ... and not before A's session was dead (its last heartbeat plus the timeout).
        expect(t!.early_s).toBeGreaterThanOrEqual(0);
        process.stdout.write(
          `[liveness ${get().kind}] timeout ${TIMEOUT_S} s, heartbeat ${HEARTBEAT_MS} ms: SIGKILL → lock granted ` +
            `${t!.lock_s.toFixed(2)} s, task claimed ${t!.claim_s.toFixed(2)} s (db clock); agent saw ` +
            `${(lockMs / 1000).toFixed(2)} s / ${(claimMs / 1000).toFixed(2)} s\n`,
        );

        // The events name the cause: the session declared dead, the lock expired with it, the task released for it.
        const events = await db.query<{ kind: string; data: any }>(
          `select kind, data from coord.events
            where (subject = $1 and data->>'repo' = $2) or subject = $3 or (subject = $4 and kind = 'session.expired')
            order by id`,
          ["src/c.ts", repo, task.id, `kill-a-${get().kind}`],
        );
        expect(events.find((e) => e.kind === "lock.expired")?.data).toMatchObject({ cause: "session_expired" });
        expect(events.find((e) => e.kind === "task.released")?.data).toMatchObject({ reason: "session expired" });
        expect(events.some((e) => e.kind === "session.expired")).toBe(true);
      } finally {
        await a.client.close().catch(() => {});
        await b.client.close();
        await server.close();
      }
    },
    TEST_MS * 2,
  );

  it(
    "a bridge cut off by a silent network loses its lock; when the network comes back its next answer says so, and so does its resumed event stream",
    async () => {
      const db = get().db;
      const server = await listen(testApp(db, { env }).app);
      const proxy = await partitionProxy(new URL(server.url));
      const session = `part-a-${get().kind}`;
      const a = await startBridge(proxy.url, "part-a", session);
      const b = await startBridge(server.url, "part-b", `part-b-${get().kind}`);
      try {
        const repo = `part-${get().kind}`;
        const locked = await a.call("acquire_lock", { repo, file_path: "src/p.ts" });
        expect(locked.isError).toBeFalsy();
        const token = locked.structuredContent.locks[0].token;

        proxy.stop();
        // A's heartbeats now vanish. Once its session is past its timeout, B takes the file.
        let taken: ToolResult | undefined;
        while (!taken || taken.isError) {
          taken = await b.call("acquire_lock", { repo, file_path: "src/p.ts", wait_seconds: 20 });
        }
        const [row] = await db.query<{ dead: boolean }>(
          "select live_until <= now() as dead from coord.sessions where session_id = $1",
          [session],
        );
        expect(row!.dead).toBe(true);

        proxy.resume();
        // A's next tool answer (whatever the tool) starts with the lost-lock notice.
        let back: ToolResult | undefined;
        for (let i = 0; !back && i < 20; i++) {
          try {
            back = await a.call("check_locks", { repo });
          } catch {
            // A request caught in the cut connection fails once; the agent simply calls again.
            await sleep(HEARTBEAT_MS);
          }
        }
        expect(back).toBeTruthy();
        expect(back!.content[0]!.text).toMatch(/^NOTICE/);
        expect(back!.content[0]!.text).toContain(`Lock on src/p.ts in repo ${repo} (token ${token}) lost at`);
        expect(back!.content[0]!.text).toContain("declared dead");
        expect(back!.content[0]!.text).toContain("Stop editing src/p.ts");
        // The rest of the answer is the tool's own: B holds it now.
        expect(back!.content[1]!.text).toMatch(/src\/p\.ts by part-b/);
        // The bridge's event stream, cut with the network, resumed with Last-Event-ID and told the session too.
        const told = () => a.messages.find((m) => m.about === "lock_lost" && m.subject === "src/p.ts");
        for (let i = 0; !told() && i < TEST_MS / 100; i++) await sleep(100);
        expect(told()).toMatchObject({ cause: "session_expired", token, repo });
        expect(told()!.message).toContain("declared dead");
      } finally {
        await a.client.close().catch(() => {});
        await b.client.close();
        await proxy.close();
        await server.close();
      }
    },
    TEST_MS * 2,
  );
});
