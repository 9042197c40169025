/**
 * `mcp-bridge hook` run as Claude Code runs it: a real process per event, the event JSON on stdin, against a real
 * listening server, next to a real bridge process (whose session the hook's locks join).
 *
 * The events follow Claude Code's hooks reference: common fields `session_id`, `transcript_path`, `cwd`,
 * `permission_mode`, `hook_event_name`; for PreToolUse `tool_name`, `tool_input` (absolute `file_path`; NotebookEdit
 * sends `notebook_path`) and `tool_use_id`. Answers: exit 0 with nothing (allow, normal permission flow), exit 0 with
 * `hookSpecificOutput.permissionDecision: "deny"` and a reason (deny), exit 0 with `systemMessage` (a warning shown
 * to the user), exit 1 with stderr (non-blocking error: the tool call proceeds).
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Db } from "../../functions-src/db/port.ts";
import { AGENT_KEY, agentHeaders, pgliteFromTemplate, testApp } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { EDIT_TOOLS, settingsSnippet } from "./hook.ts";
import { sessionsDir } from "./session-file.ts";
import { builtBridge, eventually, gitRepo, privateDir, run, removeTemporary } from "./testing.ts";

describe("mcp-bridge hook (Claude Code PreToolUse)", () => {
  let db: Db;
  let server: { url: string; close(): Promise<void> };
  let BIN: string;
  let repo: string;
  let runtime: string;
  let closedUrl: string;

  beforeAll(async () => {
    [db, BIN] = await Promise.all([pgliteFromTemplate(), builtBridge()]);
    server = await listen(testApp(db).app);
    repo = gitRepo();
    mkdirSync(join(repo, "src"));
    runtime = privateDir();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
  });
  afterAll(async () => {
    await server.close();
    await db.close();
    removeTemporary();
  });

  const baseEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH!,
    HOME: runtime,
    XDG_RUNTIME_DIR: runtime,
    COORDINATOR_URL: server.url,
    COORDINATION_API_KEY: AGENT_KEY,
    ...extra,
  });

  const event = (tool: string, input: Record<string, unknown>, over: Record<string, unknown> = {}) =>
    JSON.stringify({
      session_id: "9ecf22fa-edf8-4332-ae85-b6d5456eda64",
      transcript_path: join(runtime, "transcript.jsonl"),
      cwd: repo,
      permission_mode: "default",
      hook_event_name: "PreToolUse",
      tool_name: tool,
      tool_input: input,
      tool_use_id: "toolu_01ABC123",
      ...over,
    });

  const hook = (stdin: string, env: Record<string, string>, args: string[] = []) =>
    run(process.execPath, [BIN, "hook", ...args], { env: baseEnv(env), stdin, cwd: repo });

  const decision = (stdout: string) =>
    stdout.trim()
      ? (JSON.parse(stdout) as { hookSpecificOutput?: Record<string, string>; systemMessage?: string })
      : {};

  const lockRow = async (key: string) =>
    (
      await db.query<{ agent_id: string; session_id: string | null; reason: string }>(
        "select agent_id, session_id, reason from coord.locks where repo = 'default' and key = $1 and expires_at > now()",
        [key],
      )
    )[0];

  /** Starts the agent's bridge as Claude Code would (cwd = the project), and waits for its session file. */
  async function startBridge(agentId: string, env: Record<string, string> = {}) {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      cwd: repo,
      stderr: "pipe",
      env: baseEnv({ AGENT_ID: agentId, AGENT_TYPE: "claude_code", ...env }),
    });
    const client = new Client({ name: "claude-code-stand-in", version: "1.0.0" });
    await client.connect(transport);
    const dir = sessionsDir({ XDG_RUNTIME_DIR: runtime });
    const file = () => readdirSync(dir).find((f) => f.endsWith(`-${transport.pid}.json`));
    expect(await eventually(() => !!file())).toBe(true);
    const path = join(dir, file()!);
    const record = JSON.parse(readFileSync(path, "utf8")) as { session_id: string; agent_id: string };
    return { client, transport, path, record };
  }

  it("takes the lock in the running bridge's session; the same agent edits on; the bridge's exit releases it", async () => {
    const bridge = await startBridge("hook-a");
    // The session file: private, naming the session and agent, never carrying the key.
    expect(statSync(bridge.path).mode & 0o777).toBe(0o600);
    expect(statSync(sessionsDir({ XDG_RUNTIME_DIR: runtime })).mode & 0o777).toBe(0o700);
    expect(bridge.record).toMatchObject({ agent_id: "hook-a", project_root: repo, coordinator_url: server.url });
    expect(readFileSync(bridge.path, "utf8")).not.toContain(AGENT_KEY);

    const first = await hook(event("Write", { file_path: join(repo, "src/new.ts"), content: "x" }), {
      AGENT_ID: "hook-a",
    });
    expect(first).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await lockRow("src/new.ts")).toMatchObject({
      agent_id: "hook-a",
      session_id: bridge.record.session_id,
      reason: "editing (Claude Code Write)",
    });

    const again = await hook(event("Edit", { file_path: join(repo, "src/new.ts"), old_string: "x", new_string: "y" }), {
      AGENT_ID: "hook-a",
    });
    expect(again).toMatchObject({ code: 0, stdout: "" });

    // From a subfolder (Claude Code's cwd moves with `cd`), the project and the session are the same.
    const sub = await hook(
      event("Write", { file_path: join(repo, "src/sub.ts"), content: "" }, { cwd: join(repo, "src") }),
      { AGENT_ID: "hook-a" },
    );
    expect(sub).toMatchObject({ code: 0, stdout: "" });
    expect(await lockRow("src/sub.ts")).toMatchObject({ session_id: bridge.record.session_id });

    await bridge.client.close();
    expect(await eventually(async () => !(await lockRow("src/new.ts")) && !(await lockRow("src/sub.ts")))).toBe(true);
    expect(await eventually(() => !existsSync(bridge.path))).toBe(true);
  });

  it("denies an edit of a file another agent holds, naming the holder, the reason and the expiry", async () => {
    const taken = await testApp(db).app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("other-agent"),
      body: JSON.stringify({ file_path: "src/taken.ts", reason: "refactoring the parser" }),
    });
    expect(taken.status).toBe(200);
    const bridge = await startBridge("hook-b");
    for (const [tool, input] of [
      ["Edit", { file_path: join(repo, "src/taken.ts"), old_string: "a", new_string: "b" }],
      ["MultiEdit", { file_path: join(repo, "src/taken.ts"), edits: [{ old_string: "a", new_string: "b" }] }],
      ["Write", { file_path: join(repo, "src/taken.ts"), content: "" }],
    ] as const) {
      const r = await hook(event(tool, input), { AGENT_ID: "hook-b" });
      expect(r.code).toBe(0);
      const out = decision(r.stdout).hookSpecificOutput!;
      expect(out).toMatchObject({ hookEventName: "PreToolUse", permissionDecision: "deny" });
      expect(out.permissionDecisionReason).toMatch(
        /Locked: src\/taken\.ts by other-agent until \d\d:\d\d:\d\dZ for 'refactoring the parser'/,
      );
    }
    expect(await lockRow("src/taken.ts")).toMatchObject({ agent_id: "other-agent" });
    await bridge.client.close();
  });

  it("NotebookEdit: locks the notebook_path", async () => {
    const bridge = await startBridge("hook-nb");
    const r = await hook(
      event("NotebookEdit", { notebook_path: join(repo, "analysis.ipynb"), new_source: "print(1)", cell_id: "c1" }),
      { AGENT_ID: "hook-nb" },
    );
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(await lockRow("analysis.ipynb")).toMatchObject({ agent_id: "hook-nb" });
    await bridge.client.close();
  });

  it("check mode only checks: allows a free file without locking it, denies a held one", async () => {
    const bridge = await startBridge("hook-check");
    const free = await hook(event("Write", { file_path: join(repo, "src/free.ts"), content: "" }), {
      AGENT_ID: "hook-check",
      COORDINATOR_HOOK_MODE: "check",
    });
    expect(free).toMatchObject({ code: 0, stdout: "" });
    expect(await lockRow("src/free.ts")).toBeUndefined();

    await testApp(db).app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("dir-holder"),
      body: JSON.stringify({ file_path: "docs/", reason: "rewriting the docs" }),
    });
    const held = await hook(
      event("Edit", { file_path: join(repo, "docs/guide.md"), old_string: "a", new_string: "b" }),
      { AGENT_ID: "hook-check" },
      ["--mode", "check"],
    );
    const out = decision(held.stdout).hookSpecificOutput!;
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toMatch(/docs\/ by dir-holder until \d\d:\d\d:\d\dZ \(rewriting the docs\)/);
    await bridge.client.close();
  });

  it("without a running bridge: checks only (a lock outside any session would outlive the agent) and says so", async () => {
    const r = await hook(event("Write", { file_path: join(repo, "src/lonely.ts"), content: "" }), {
      AGENT_ID: "hook-lonely",
    });
    expect(r.code).toBe(0);
    expect(decision(r.stdout).systemMessage).toMatch(/no running mcp-bridge found for this project/);
    expect(decision(r.stdout).hookSpecificOutput).toBeUndefined();
    expect(await lockRow("src/lonely.ts")).toBeUndefined();
  });

  it("ignores the session files of dead bridges (and removes them), and of other coordinators or agents", async () => {
    const dir = sessionsDir({ XDG_RUNTIME_DIR: runtime });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dead = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
    const bridge = await startBridge("hook-files");
    const record = { ...bridge.record, pid: dead, session_id: "s-dead-bridge" };
    const deadFile = bridge.path.replace(/-\d+\.json$/, `-${dead}.json`);
    writeFileSync(deadFile, JSON.stringify(record), { mode: 0o600 });
    // A live pid whose file stopped being touched: a hung bridge, or a dead bridge's pid the OS gave to another
    // process (here: the test runner). Newer than the real bridge, so only its staleness keeps it out.
    const reusedFile = bridge.path.replace(/-\d+\.json$/, `-${process.pid}.json`);
    writeFileSync(
      reusedFile,
      JSON.stringify({
        ...bridge.record,
        pid: process.pid,
        session_id: "s-reused-pid",
        started_at: new Date(Date.now() + 60_000).toISOString(),
      }),
      { mode: 0o600 },
    );
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(reusedFile, anHourAgo, anHourAgo);

    // Another agent's hook finds no session of its own here: it only checks.
    const other = await hook(event("Write", { file_path: join(repo, "src/files.ts"), content: "" }), {
      AGENT_ID: "someone-else",
    });
    expect(decision(other.stdout).systemMessage).toMatch(/no running mcp-bridge/);
    expect(readdirSync(dir)).not.toContain(deadFile.split("/").pop());

    // Pointed at another coordinator, the live bridge's file does not match either (fail-open warning: unreachable).
    const elsewhere = await hook(event("Write", { file_path: join(repo, "src/files.ts"), content: "" }), {
      AGENT_ID: "hook-files",
      COORDINATOR_URL: closedUrl,
    });
    expect(decision(elsewhere.stdout).systemMessage).toMatch(/not checked: cannot reach/);

    const own = await hook(event("Write", { file_path: join(repo, "src/files.ts"), content: "" }), {
      AGENT_ID: "hook-files",
    });
    expect(own).toMatchObject({ code: 0, stdout: "" });
    expect(await lockRow("src/files.ts")).toMatchObject({ session_id: bridge.record.session_id });
    await bridge.client.close();
  });

  it("does not trust session files in a folder other users can write to", async () => {
    const bridge = await startBridge("hook-unsafe");
    const dir = sessionsDir({ XDG_RUNTIME_DIR: runtime });
    chmodSync(dir, 0o777);
    try {
      const r = await hook(event("Write", { file_path: join(repo, "src/unsafe.ts"), content: "" }), {
        AGENT_ID: "hook-unsafe",
      });
      expect(decision(r.stdout).systemMessage).toMatch(/writable by other users.*no running mcp-bridge/);
      expect(await lockRow("src/unsafe.ts")).toBeUndefined();
    } finally {
      chmodSync(dir, 0o700);
      await bridge.client.close();
    }
  });

  it("the bridge's SIGTERM ends the session and releases the hook's locks", async () => {
    const bridge = await startBridge("hook-term");
    await hook(event("Write", { file_path: join(repo, "src/term.ts"), content: "" }), { AGENT_ID: "hook-term" });
    expect(await lockRow("src/term.ts")).toMatchObject({ agent_id: "hook-term" });
    process.kill(bridge.transport.pid!, "SIGTERM");
    expect(await eventually(async () => !(await lockRow("src/term.ts")))).toBe(true);
    await bridge.client.close().catch(() => {});
  });

  it("coordinator unreachable: allows with a warning (fail open, default) or denies (fail closed)", async () => {
    const input = event("Write", { file_path: join(repo, "src/down.ts"), content: "" });
    const open = await hook(input, { AGENT_ID: "hook-down", COORDINATOR_URL: closedUrl, SESSION_ID: "s-down" });
    expect(open.code).toBe(0);
    expect(decision(open.stdout).hookSpecificOutput).toBeUndefined();
    expect(decision(open.stdout).systemMessage).toMatch(
      /lock on src\/down\.ts not checked: cannot reach the coordinator at .* \(ECONNREFUSED\)/,
    );

    const closed = await hook(input, {
      AGENT_ID: "hook-down",
      COORDINATOR_URL: closedUrl,
      SESSION_ID: "s-down",
      COORDINATOR_FAIL: "closed",
    });
    const out = decision(closed.stdout).hookSpecificOutput!;
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toMatch(/could not check the lock on src\/down\.ts: cannot reach/);

    // The flag works too, and a refused key is reported the same way.
    const badKey = await hook(input, { AGENT_ID: "hook-down", COORDINATION_API_KEY: "wrong-key-000000000000" }, [
      "--fail=closed",
    ]);
    expect(decision(badKey.stdout).hookSpecificOutput!.permissionDecisionReason).toMatch(/COORDINATION_API_KEY/);
  });

  it("bad input: a clear message on stderr and exit 1 (non-blocking: the edit proceeds)", async () => {
    const cases: Array<[string, RegExp]> = [
      ["not json {", /stdin is not a JSON hook event/],
      ["", /stdin is not a JSON hook event/],
      [event("Write", { file_path: join(repo, "a.ts") }, { hook_event_name: "PostToolUse" }), /PreToolUse events only/],
      [event("Bash", { command: "ls" }), /handles Edit, MultiEdit, Write, NotebookEdit only, got Bash/],
      [event("Write", { content: "x" }), /tool_input\.file_path is missing/],
      [event("NotebookEdit", { new_source: "x" }), /tool_input\.notebook_path is missing/],
      [event("Write", { file_path: "/etc/passwd", content: "x" }), /\/etc\/passwd is outside the repository/],
      [event("Write", { file_path: join(repo, "..", "sibling.ts") }), /is outside the repository/],
    ];
    for (const [stdin, message] of cases) {
      const r = await hook(stdin, { AGENT_ID: "hook-bad" });
      expect({ code: r.code, stdout: r.stdout }, stdin).toEqual({ code: 1, stdout: "" });
      expect(r.stderr, stdin).toMatch(message);
      expect(r.stderr.startsWith("mcp-bridge hook: "), stdin).toBe(true);
    }
    const unset = await run(process.execPath, [BIN, "hook"], {
      env: { PATH: process.env.PATH!, HOME: runtime },
      stdin: event("Write", { file_path: join(repo, "a.ts"), content: "" }),
      cwd: repo,
    });
    expect(unset).toMatchObject({ code: 1, stdout: "" });
    expect(unset.stderr).toMatch(/COORDINATOR_URL is not set/);
  });

  it("--print-config prints the .claude/settings.json hooks snippet", async () => {
    const r = await run(process.execPath, [BIN, "hook", "--print-config"], { env: { PATH: process.env.PATH! } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(settingsSnippet());
    const config = JSON.parse(r.stdout);
    const entry = config.hooks.PreToolUse[0];
    expect(entry.matcher.split("|").sort()).toEqual([...EDIT_TOOLS].sort());
    expect(entry.hooks).toEqual([
      expect.objectContaining({ type: "command", command: expect.stringMatching(/mcp-bridge hook$/) }),
    ]);
  });
});
