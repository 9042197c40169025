/**
 * `mcp-bridge guard` in real git repositories: `guard install`, then real `git commit`s run the hooks against a real
 * listening server.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Db } from "../../functions-src/db/port.ts";
import { agentHeaders, AGENT_KEY, pgliteFromTemplate, testApp } from "../../test/helpers.ts";
import { listen } from "../../test/server.ts";
import { encodeTrailerPath } from "./guard.ts";
import { builtBridge, gitRepo, privateDir, run, removeTemporary } from "./testing.ts";

describe("mcp-bridge guard (git pre-commit and commit-msg)", () => {
  let db: Db;
  let server: { url: string; close(): Promise<void> };
  let BIN: string;
  let home: string;
  let closedUrl: string;

  beforeAll(async () => {
    [db, BIN] = await Promise.all([pgliteFromTemplate(), builtBridge()]);
    server = await listen(testApp(db).app);
    home = privateDir();
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

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH!,
    HOME: home,
    XDG_RUNTIME_DIR: home,
    COORDINATOR_URL: server.url,
    COORDINATION_API_KEY: AGENT_KEY,
    AGENT_ID: "guard-agent",
    ...extra,
  });
  const git = (repo: string, args: string[], extra: Record<string, string> = {}) =>
    run("git", args, { cwd: repo, env: env(extra) });
  const write = (repo: string, path: string, text = `${path}\n`) => {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), text);
  };
  const lock = async (agent: string, path: string, reason = "working on it") => {
    const res = await testApp(db).app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders(agent),
      body: JSON.stringify({ repo: "default", file_path: path, reason }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { locks: Array<{ token: number }> }).locks[0]!.token;
  };
  const trailers = (repo: string) =>
    execFileSync("git", ["log", "-1", "--format=%(trailers:only,unfold)"], { cwd: repo, encoding: "utf8" }).trim();
  const install = (repo: string, args: string[] = []) =>
    run(process.execPath, [BIN, "guard", "install", ...args], { cwd: repo, env: env() });

  it("keeps existing hooks (chained, run first), refuses paths another agent holds, stamps the fencing tokens", async () => {
    const repo = gitRepo("guard-");
    const hooks = join(repo, ".git", "hooks");
    writeFileSync(join(hooks, "pre-commit"), `#!/bin/sh\necho pre >> "${repo}/.git/ran"\n`);
    writeFileSync(join(hooks, "commit-msg"), `#!/bin/sh\necho msg >> "${repo}/.git/ran"\n`);
    chmodSync(join(hooks, "pre-commit"), 0o755);
    chmodSync(join(hooks, "commit-msg"), 0o755);

    const installed = await install(repo);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain("kept the existing pre-commit as pre-commit.pre-coordinator");
    expect(existsSync(join(hooks, "pre-commit.pre-coordinator"))).toBe(true);
    // Installing again changes nothing (and keeps the originals).
    expect((await install(repo)).stdout).not.toContain("kept the existing");

    await lock("other-agent", "src/theirs.ts", "refactoring the parser");
    write(repo, "src/theirs.ts");
    write(repo, "src/free.ts");
    await git(repo, ["add", "."]);
    const refused = await git(repo, ["commit", "-m", "touch theirs"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/src\/theirs\.ts: locked by other-agent until .* — refactoring the parser/);
    expect(refused.stderr).not.toMatch(/src\/free\.ts/);
    expect(readFileSync(join(repo, ".git", "ran"), "utf8")).toBe("pre\n");

    await git(repo, ["reset", "-q", "src/theirs.ts"]);
    const mine = await lock("guard-agent", "src/mine.ts");
    const dir = await lock("guard-agent", "lib/");
    const odd = "docs/a, b=c.md";
    const oddToken = await lock("guard-agent", odd);
    write(repo, "src/mine.ts");
    write(repo, "lib/deep/x.ts");
    write(repo, odd);
    await git(repo, ["add", "src/mine.ts", "lib", "docs"]);
    const ok = await git(repo, ["commit", "-m", "my change"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(repo, ".git", "ran"), "utf8")).toBe("pre\npre\nmsg\n");
    expect(trailers(repo)).toBe(
      [
        "Coordinator-Lock-Repo: default",
        "Coordinator-Lock-Agent: guard-agent",
        `Coordinator-Lock-Tokens: docs/a%2C%20b%3Dc.md=${oddToken}, lib/deep/x.ts=${dir}, src/mine.ts=${mine}`,
      ].join("\n"),
    );
    expect(encodeTrailerPath(odd)).toBe("docs/a%2C%20b%3Dc.md");

    // Amending replaces the trailers (never two sets); they cover what is staged against HEAD at that moment.
    const more = await lock("guard-agent", "src/more.ts");
    write(repo, "src/more.ts");
    await git(repo, ["add", "src/more.ts"]);
    const amended = await git(repo, ["commit", "--amend", "-m", "my change\n\nwith a body"]);
    expect(amended.code, amended.stderr).toBe(0);
    expect(trailers(repo)).toBe(
      [
        "Coordinator-Lock-Repo: default",
        "Coordinator-Lock-Agent: guard-agent",
        `Coordinator-Lock-Tokens: src/more.ts=${more}`,
      ].join("\n"),
    );
    const body = execFileSync("git", ["log", "-1", "--format=%B"], { cwd: repo, encoding: "utf8" });
    expect(body).toContain("with a body");
    // A commit of paths nobody locked carries none.
    write(repo, "src/unlocked.ts");
    await git(repo, ["add", "src/unlocked.ts"]);
    expect((await git(repo, ["commit", "-m", "unlocked"])).code).toBe(0);
    expect(trailers(repo)).toBe("");

    const removed = await run(process.execPath, [BIN, "guard", "uninstall"], { cwd: repo, env: env() });
    expect(removed.stdout).toContain("restored the previous pre-commit");
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toContain("echo pre");
    expect(existsSync(join(hooks, "pre-commit.pre-coordinator"))).toBe(false);
  });

  it("require mode: refuses staged paths this agent has not locked", async () => {
    const repo = gitRepo("guard-require-");
    expect((await install(repo, ["--require"])).code).toBe(0);
    const token = await lock("guard-req", "held.ts");
    write(repo, "held.ts");
    write(repo, "unheld.ts");
    await git(repo, ["add", "."]);
    const refused = await git(repo, ["commit", "-m", "x"], { AGENT_ID: "guard-req" });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unheld\.ts: not locked by you \(guard-req\); acquire_lock it first/);
    expect(refused.stderr).not.toMatch(/ held\.ts/);
    await git(repo, ["reset", "-q", "unheld.ts"]);
    const ok = await git(repo, ["commit", "-m", "x"], { AGENT_ID: "guard-req" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(trailers(repo)).toContain(`Coordinator-Lock-Tokens: held.ts=${token}`);
  });

  it("without AGENT_ID, acts as the agent of the bridge running for this repository (its session file)", async () => {
    const repo = gitRepo("guard-session-");
    expect((await install(repo)).code).toBe(0);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      cwd: repo,
      stderr: "pipe",
      env: env({ AGENT_ID: "bridge-guard" }),
    });
    const client = new Client({ name: "codex-stand-in", version: "1.0.0" });
    await client.connect(transport);
    const acquired = await client.callTool({ name: "acquire_lock", arguments: { file_path: "via-bridge.ts" } });
    const token = (acquired.structuredContent as { locks: Array<{ token: number }> }).locks[0]!.token;
    write(repo, "via-bridge.ts");
    await git(repo, ["add", "via-bridge.ts"]);
    const { AGENT_ID: _unset, ...noAgent } = env();
    const ok = await run("git", ["commit", "-m", "x"], { cwd: repo, env: noAgent });
    expect(ok.code, ok.stderr).toBe(0);
    expect(trailers(repo)).toContain("Coordinator-Lock-Agent: bridge-guard");
    expect(trailers(repo)).toContain(`Coordinator-Lock-Tokens: via-bridge.ts=${token}`);
    await client.close();
  });

  it("honours core.hooksPath", async () => {
    const repo = gitRepo("guard-hookspath-");
    execFileSync("git", ["config", "core.hooksPath", ".githooks"], { cwd: repo });
    expect((await install(repo)).code).toBe(0);
    expect(existsSync(join(repo, ".githooks", "pre-commit"))).toBe(true);
    await lock("someone", "blocked.ts");
    write(repo, "blocked.ts");
    await git(repo, ["add", "blocked.ts"]);
    expect((await git(repo, ["commit", "-m", "x"])).stderr).toMatch(/blocked\.ts: locked by someone/);
  });

  it("coordinator unreachable: commits with a warning (fail open) or refuses (fail closed)", async () => {
    const repo = gitRepo("guard-down-");
    expect((await install(repo)).code).toBe(0);
    write(repo, "a.ts");
    await git(repo, ["add", "a.ts"]);
    const closed = await git(repo, ["commit", "-m", "x"], { COORDINATOR_URL: closedUrl, COORDINATOR_FAIL: "closed" });
    expect(closed.code).not.toBe(0);
    expect(closed.stderr).toMatch(/mcp-bridge guard: cannot reach the coordinator .*ECONNREFUSED/);
    const open = await git(repo, ["commit", "-m", "x"], { COORDINATOR_URL: closedUrl });
    expect(open.code, open.stderr).toBe(0);
    expect(open.stderr).toMatch(/locks not checked \(cannot reach the coordinator.*\); committing anyway/);
    expect(trailers(repo)).toBe("");

    const unset = await run("git", ["commit", "--allow-empty", "-m", "y"], {
      cwd: repo,
      env: { PATH: process.env.PATH!, HOME: home },
    });
    expect(unset.code).toBe(0);
    expect(unset.stderr).toMatch(/locks not checked \(COORDINATOR_URL is not set/);
  });
});
