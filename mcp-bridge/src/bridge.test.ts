import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Db } from "../../functions-src/db/port.ts";
import { AGENT_KEY, BOUND_AGENT, BOUND_KEY, pgliteFromTemplate, resourceJson, testApp } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { builtBridge, privateDir, run, removeTemporary } from "./testing.ts";

// The bundle as `npm pack` ships it, built from the current sources.
let BIN: string;
// Session files go to a private folder per suite, as to a user's XDG_RUNTIME_DIR.
let RUNTIME: string;

/** Runs the bridge to completion and returns its exit code and output (for the failure modes and --check). */
function runBridge(env: Record<string, string>, args: string[] = []) {
  return run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, XDG_RUNTIME_DIR: RUNTIME, ...env } });
}

// Child processes start slowly on a loaded machine: waits end when their condition holds, under generous ceilings.
const SETTLE_MS = 60_000;

/** Polls `check` until it answers true or SETTLE_MS pass; answers the last result. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("mcp-bridge as a child process", { timeout: 240_000 }, () => {
  let db: Db;
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    [db, BIN] = await Promise.all([pgliteFromTemplate(), builtBridge()]);
    RUNTIME = privateDir();
    server = await listen(testApp(db).app);
  });
  afterAll(async () => {
    await server.close();
    await db.close();
    removeTemporary();
  });

  it("pipes MCP: initialize, list and read coordinator://status; heartbeats; ends the session when stdin closes", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: {
        PATH: process.env.PATH!,
        XDG_RUNTIME_DIR: RUNTIME,
        COORDINATOR_URL: server.url,
        COORDINATION_API_KEY: AGENT_KEY,
        AGENT_ID: "bridge-agent",
        AGENT_TYPE: "claude_code",
        SESSION_ID: "bridge-session-1",
        BRIDGE_HEARTBEAT_MS: "200",
      },
      stderr: "pipe",
    });
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe("agent-coordinator");

    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain("coordinator://status");
    const read = await client.readResource({ uri: "coordinator://status" });
    const status = resourceJson(read);
    expect(status).toMatchObject({ version: expect.any(String), schema_version: expect.stringMatching(/^\d{4}_/) });
    expect(status.agents).toBeGreaterThanOrEqual(1);

    // The preflight heartbeat and the periodic ones mark the session; wait for a second periodic beat.
    const first = await db.query<{ t: string }>(
      "select last_heartbeat_at::text as t from coord.sessions where agent_id = 'bridge-agent' and session_id = 'bridge-session-1'",
    );
    expect(first).toHaveLength(1);
    let later: Array<{ t: string; agent_type: string }> = [];
    const beat = await eventually(async () => {
      later = await db.query<{ t: string; agent_type: string }>(
        "select last_heartbeat_at::text as t, agent_type from coord.sessions where agent_id = 'bridge-agent' and session_id = 'bridge-session-1'",
      );
      return later[0]!.t > first[0]!.t;
    });
    expect(beat).toBe(true);
    expect(later[0]!.agent_type).toBe("claude_code");

    await client.close();
    const ended = await eventually(async () => {
      const [row] = await db.query<{ ended: boolean }>(
        "select ended_at is not null as ended from coord.sessions where agent_id = 'bridge-agent' and session_id = 'bridge-session-1'",
      );
      return row!.ended;
    });
    expect(ended).toBe(true);
  });

  it("carries every capability's tools (locks, work, memory, verification); locks are released when the session ends", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      stderr: "pipe",
      env: {
        PATH: process.env.PATH!,
        XDG_RUNTIME_DIR: RUNTIME,
        COORDINATOR_URL: server.url,
        COORDINATION_API_KEY: AGENT_KEY,
        AGENT_ID: "bridge-worker",
        SESSION_ID: "bridge-tools",
      },
    });
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    for (const name of ["acquire_lock", "release_lock", "check_locks", "submit_work", "get_work", "complete_work"]) {
      expect(tools.map((t) => t.name)).toContain(name);
    }

    const lock = await client.callTool({
      name: "acquire_lock",
      arguments: { file_path: "src/bridge.ts", reason: "bridge test" },
    });
    expect(lock.isError).toBeFalsy();
    expect((lock.structuredContent as { locks: Array<{ token: number }> }).locks[0]!.token).toBeGreaterThan(0);

    const submitted = await client.callTool({
      name: "submit_work",
      arguments: { task_type: "bridge", task_description: "through the pipe" },
    });
    expect(submitted.isError).toBeFalsy();
    const claimed = await client.callTool({ name: "get_work", arguments: { task_types: ["bridge"] } });
    const task = (claimed.structuredContent as { tasks: Array<{ id: string; claim_token: number }> }).tasks[0]!;
    const done = await client.callTool({
      name: "complete_work",
      arguments: { task_id: task.id, claim_token: task.claim_token, success: true, result: { ok: 1 } },
    });
    expect(done.isError).toBeFalsy();

    const remembered = await client.callTool({
      name: "remember",
      arguments: {
        event_type: "build_fix",
        summary: "vitest 5 needs Node 22; pin vitest 4 on Node 20",
        tags: ["vitest", "node"],
      },
    });
    expect(remembered.isError).toBeFalsy();
    const recalled = await client.callTool({
      name: "recall",
      arguments: { task_description: "which vitest works on node 20" },
    });
    const hits = (recalled.structuredContent as { results: Array<{ summary: string }> }).results;
    expect(hits[0]?.summary).toMatch(/vitest 4/);
    const working = await client.callTool({
      name: "remember",
      arguments: { layer: "working", summary: "goal: wire the bridge", kind: "goal" },
    });
    expect(working.isError).toBeFalsy();
    const context = await client.callTool({ name: "get_context", arguments: {} });
    expect(JSON.stringify(context.structuredContent)).toContain("wire the bridge");

    const change = await client.callTool({
      name: "submit_changes",
      arguments: {
        repo: "acme/app",
        commit_sha: "a".repeat(40),
        files: [{ path: "docs/guide.md", status: "modified", content: "# Guide\n" }],
      },
    });
    expect(change.isError).toBeFalsy();
    const changeset = change.structuredContent as { id: string; tier: number };
    expect(changeset.tier).toBe(0);
    const status = await client.callTool({ name: "verification_status", arguments: { id: changeset.id } });
    expect((status.structuredContent as { id: string }).id).toBe(changeset.id);

    // A refusal comes back as an MCP error result an agent can read, not as a transport failure.
    const bad = await client.callTool({ name: "acquire_lock", arguments: { file_path: "../etc/passwd" } });
    expect(bad.isError).toBe(true);

    await client.close();
    const released = await eventually(async () => {
      const [row] = await db.query<{ n: number }>(
        "select count(*)::int as n from coord.locks where agent_id = 'bridge-worker'",
      );
      return row!.n === 0;
    });
    expect(released).toBe(true);
  });

  it("generates a session id when none is given", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      stderr: "pipe",
      env: {
        PATH: process.env.PATH!,
        XDG_RUNTIME_DIR: RUNTIME,
        COORDINATOR_URL: server.url,
        COORDINATION_API_KEY: AGENT_KEY,
        AGENT_ID: "bridge-anon-session",
      },
    });
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await client.connect(transport);
    await client.close();
    const rows = await db.query<{ session_id: string }>(
      "select session_id from coord.sessions where agent_id = 'bridge-anon-session'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.session_id).toMatch(/^s-[0-9a-f-]{36}$/);
  });

  it("exits non-zero with one clear line when the URL or key is missing", async () => {
    const noUrl = await runBridge({ COORDINATION_API_KEY: AGENT_KEY });
    expect(noUrl.code).not.toBe(0);
    expect(noUrl.stderr.trim().split("\n")).toHaveLength(1);
    expect(noUrl.stderr).toMatch(/COORDINATOR_URL is not set/);
    expect(noUrl.stdout).toBe("");

    const noKey = await runBridge({ COORDINATOR_URL: server.url });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/COORDINATION_API_KEY is not set/);
  });

  it("exits non-zero with one clear line when the server is unreachable or refuses the key", async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await runBridge({
      COORDINATOR_URL: `http://127.0.0.1:${port}`,
      COORDINATION_API_KEY: AGENT_KEY,
      AGENT_ID: "x",
    });
    expect(down.code).not.toBe(0);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    expect(down.stderr).toContain(`cannot reach the coordinator at http://127.0.0.1:${port} (ECONNREFUSED)`);

    const refused = await runBridge({
      COORDINATOR_URL: server.url,
      COORDINATION_API_KEY: "wrong-key-000000000000",
      AGENT_ID: "x",
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refused the bridge \(401\)/);
  });

  it("names the variable to set when the identity is missing, not allowed or malformed", async () => {
    const noAgent = await runBridge({ COORDINATOR_URL: server.url, COORDINATION_API_KEY: AGENT_KEY });
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr.trim().split("\n")).toHaveLength(1);
    expect(noAgent.stderr).toMatch(/AGENT_ID is not set/);
    expect(noAgent.stderr).not.toMatch(/X-Agent-Id/);

    const otherAgent = await runBridge({
      COORDINATOR_URL: server.url,
      COORDINATION_API_KEY: BOUND_KEY,
      AGENT_ID: "intruder",
    });
    expect(otherAgent.code).toBe(1);
    expect(otherAgent.stderr).toMatch(/AGENT_ID=intruder is not allowed with this key/);

    const badSession = await runBridge({
      COORDINATOR_URL: server.url,
      COORDINATION_API_KEY: AGENT_KEY,
      AGENT_ID: "ok-agent",
      SESSION_ID: "has spaces",
    });
    expect(badSession.code).toBe(1);
    expect(badSession.stderr).toMatch(/SESSION_ID is not valid: use 1–128 of letters/);

    const notCoordinator = await runBridge({
      COORDINATOR_URL: `${server.url}/not/here`,
      COORDINATION_API_KEY: AGENT_KEY,
      AGENT_ID: "x",
    });
    expect(notCoordinator.code).toBe(1);
    expect(notCoordinator.stderr).toMatch(/COORDINATOR_URL=.*\/not\/here does not look like a coordinator \(404/);
  });

  it("accepts COORDINATOR_URL with /mcp and a trailing slash (the URL the server prints for MCP)", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      stderr: "pipe",
      env: {
        PATH: process.env.PATH!,
        XDG_RUNTIME_DIR: RUNTIME,
        COORDINATOR_URL: `${server.url}/mcp/`,
        COORDINATION_API_KEY: BOUND_KEY,
        SESSION_ID: "bridge-mcp-url",
      },
    });
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("acquire_lock");
    // With a bound key and no AGENT_ID, the bridge acts as the key's agent.
    const rows = await db.query<{ agent_id: string }>(
      "select agent_id from coord.sessions where session_id = 'bridge-mcp-url'",
    );
    expect(rows.map((r) => r.agent_id)).toEqual([BOUND_AGENT]);
    await client.close();
  });

  it("--check says what it would connect to and whether the key works, without opening a session", async () => {
    const ok = await runBridge(
      { COORDINATOR_URL: `${server.url}/`, COORDINATION_API_KEY: AGENT_KEY, AGENT_ID: "checker" },
      ["--check"],
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`coordinator:  ${server.url}   (MCP endpoint ${server.url}/mcp)`);
    expect(ok.stdout).toMatch(/server: +agent-coordinator \S+, schema \d{4}_/);
    expect(ok.stdout).toMatch(/key: +accepted — acts as checker \(scope agent/);
    const sessions = await db.query("select 1 from coord.sessions where agent_id = 'checker'");
    expect(sessions).toHaveLength(0);

    const bad = await runBridge(
      { COORDINATOR_URL: server.url, COORDINATION_API_KEY: "wrong-key-000000000000", AGENT_ID: "x" },
      ["--check"],
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/key: +NOT OK — .*Check COORDINATION_API_KEY/);
  });

  it("prints its version and usage", async () => {
    const v = await runBridge({}, ["--version"]);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await runBridge({}, ["--help"]);
    expect(help.stdout).toContain("mcp-bridge hook");
    const bad = await runBridge({}, ["--nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown argument --nonsense");
  });
});
