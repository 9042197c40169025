/**
 * The two publishable packages as a user gets them: `npm pack --workspaces` (which builds them), the tarballs
 * installed into an empty project folder outside the clone, then driven against a real listening server:
 *
 * - the bridge from the Claude Code plugin manifest it ships (its MCP server entry and its hook command, expanded as
 *   Claude Code expands `${CLAUDE_PLUGIN_ROOT}` and `${VAR}`), by the MCP SDK client over stdio;
 * - the hook as `mcp-bridge hook --print-config` configures it, the git guard, and `npx mcp-bridge`;
 * - the client from a plain Node ESM file and from Deno (calls and the event stream);
 * - the bridge under Deno (tools through it; its session, and the locks in it, end with it).
 *
 * Each Node-side check runs on the Node running the suite and on every binary listed in COORDINATOR_TEST_NODE_BINARIES
 * (path-delimited; `.ci/run` sets it to Node 22 and 24 from the `node` npm package).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Db } from "../functions-src/db/port.ts";
import { AGENT_KEY, agentHeaders, pgliteFromTemplate, testApp } from "./helpers.ts";
import { listen } from "./server.ts";
import { eventually, run } from "../mcp-bridge/src/testing.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO = createRequire(new URL("../tools/deno/package.json", import.meta.url)).resolve("deno/bin.cjs");
const NODES = [
  process.execPath,
  ...(process.env.COORDINATOR_TEST_NODE_BINARIES ?? "").split(delimiter).filter((p) => p.trim() !== ""),
];
const CLIENT_BUNDLE_LIMIT = 25 * 1024;

/** `${VAR}` and `${VAR:-default}` as Claude Code expands them in plugin and MCP configurations. */
function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const v = vars[name];
    if (v !== undefined && v !== "") return v;
    if (fallback !== undefined) return fallback;
    throw new Error(`${name} is not set (Claude Code refuses the configuration)`);
  });
}

const SMOKE = `// A cloud agent's script: the client package, imported by its name, nothing else.
import { AgentCoordinationClient, CoordinatorError } from "@agent-coordinator/client";
const [baseUrl, apiKey, suffix] = (globalThis.Deno ? Deno.args : process.argv.slice(2));
const a = new AgentCoordinationClient({ baseUrl: baseUrl + "/mcp/", apiKey, agentId: "smoke-a-" + suffix });
const b = new AgentCoordinationClient({ baseUrl, apiKey, agentId: "smoke-b-" + suffix, sessionId: "smoke-s-" + suffix });
const out = {};
out.me = (await a.whoami()).agent_id;
// b follows the event stream (fetch streams): it sees a's lock, then stops.
let opened;
const open = new Promise((resolve) => (opened = resolve));
const stream = b.events({ kinds: ["lock.acquired"], onOpen: () => opened() });
const seen = (async () => {
  for await (const e of stream) if (e.subject === "smoke/" + suffix + ".ts") return [e.kind, e.agent_id, typeof e.id];
})();
await open;
const { locks } = await a.acquireLock({ file_paths: ["smoke/" + suffix + ".ts"], reason: "smoke" });
out.event = await seen;
out.token = locks[0].token;
try {
  await b.acquireLock({ file_path: "smoke/" + suffix + ".ts" });
} catch (err) {
  out.refused = err instanceof CoordinatorError ? [err.status, err.code, err.details.conflicts[0].agent_id] : String(err);
}
out.released = (await a.releaseLock({ file_path: "smoke/" + suffix + ".ts" })).released.length;
const task = await a.submitWork({ task_type: "smoke-" + suffix, task_description: "x", input_data: { n: 1 } });
const { tasks } = await b.getWork({ task_types: ["smoke-" + suffix] });
out.claimed = tasks[0].id === task.id;
out.completed = (await b.completeWork({ task_id: task.id, claim_token: tasks[0].claim_token, success: true })).status;
out.ended = (await b.endSession()).ended;
console.log(JSON.stringify(out));
`;

describe("packed packages installed outside the clone", () => {
  let db: Db;
  let server: { url: string; close(): Promise<void> };
  let packs: string;
  let project: string;
  let bridgeDir: string;
  let home: string;

  beforeAll(async () => {
    db = await pgliteFromTemplate();
    server = await listen(testApp(db).app);
    packs = mkdtempSync(join(tmpdir(), "coord-packs-"));
    // prepack builds each package (client: drift check + tsc; bridge: the bundle).
    execFileSync("npm", ["pack", "--workspaces", "--pack-destination", packs, "--loglevel=error"], {
      cwd: ROOT,
      stdio: "pipe",
    });
    project = realpathSync(mkdtempSync(join(tmpdir(), "agent-project-")));
    home = realpathSync(mkdtempSync(join(tmpdir(), "agent-home-")));
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "agent-project", private: true, type: "module" }),
    );
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], {
      cwd: project,
      stdio: "pipe",
    });
    bridgeDir = join(project, "node_modules/@agent-coordinator/mcp-bridge");
    writeFileSync(join(project, "smoke.mjs"), SMOKE);
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: project });
    execFileSync("git", ["config", "user.email", "a@example.com"], { cwd: project });
    execFileSync("git", ["config", "user.name", "A"], { cwd: project });
    execFileSync("git", ["config", "commit.gpgsign", "false"], { cwd: project });
  }, 240_000);
  afterAll(async () => {
    await server?.close();
    await db?.close();
    for (const dir of [packs, project, home]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the tarballs hold built JavaScript and nothing of the server; installing them pulls in nothing else", () => {
    const list = (name: string) =>
      execFileSync("tar", ["tzf", join(packs, readdirSync(packs).find((f) => f.includes(name))!)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .sort();
    const bridge = list("mcp-bridge");
    expect(bridge).toContain("package/bin/mcp-bridge.js");
    expect(bridge).toContain("package/dist/mcp-bridge.js");
    expect(bridge).toContain("package/.claude-plugin/plugin.json");
    const client = list("client");
    expect(client).toEqual(expect.arrayContaining(["package/dist/index.js", "package/dist/index.d.ts"]));
    for (const file of [...bridge, ...client]) expect(file).not.toMatch(/(?<!\.d)\.ts$|functions-src|supabase/);
    expect(readdirSync(join(project, "node_modules")).sort()).toEqual([
      ".bin",
      ".package-lock.json",
      "@agent-coordinator",
    ]);
    for (const pkg of ["client", "mcp-bridge"]) {
      const manifest = JSON.parse(
        readFileSync(join(project, "node_modules/@agent-coordinator", pkg, "package.json"), "utf8"),
      );
      expect(manifest.dependencies ?? {}).toEqual({});
      expect(manifest.engines.node).toBe(">=20.11");
    }
  });

  it(`the client bundles to at most ${CLIENT_BUNDLE_LIMIT / 1024} KB minified, with no Node built-in`, async () => {
    const entry = join(project, "node_modules/@agent-coordinator/client/dist/index.js");
    // platform "neutral": a Node built-in (node:…) would fail to resolve.
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "neutral",
      write: false,
    });
    const bytes = out.outputFiles[0]!.contents.length;
    console.info(`client bundle: ${bytes} bytes minified`);
    expect(bytes).toBeLessThanOrEqual(CLIENT_BUNDLE_LIMIT);
  });

  describe.each(NODES)("on %s", (node) => {
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    const suffix = version.replace(/\W/g, "");
    const env = (extra: Record<string, string> = {}): Record<string, string> => ({
      // This Node first on PATH: `#!/usr/bin/env node` bins and `node` in the plugin's command resolve to it.
      PATH: `${dirname(node)}${delimiter}${process.env.PATH}`,
      HOME: home,
      XDG_RUNTIME_DIR: home,
      COORDINATOR_URL: server.url,
      COORDINATION_API_KEY: AGENT_KEY,
      ...extra,
    });

    it(`${version}: the plugin's MCP server and hook, and the --print-config hook, lock in the bridge's session`, async () => {
      const manifest = JSON.parse(readFileSync(join(bridgeDir, ".claude-plugin/plugin.json"), "utf8"));
      const agent = `plugin-agent-${suffix}`;
      const vars = env({ AGENT_ID: agent, CLAUDE_PLUGIN_ROOT: bridgeDir, CLAUDE_PROJECT_DIR: project });
      const entry = manifest.mcpServers.coordinator;
      const transport = new StdioClientTransport({
        command: expand(entry.command, vars),
        args: entry.args.map((a: string) => expand(a, vars)),
        env: {
          ...vars,
          ...Object.fromEntries(Object.entries(entry.env).map(([k, v]) => [k, expand(v as string, vars)])),
        },
        cwd: project,
        stderr: "pipe",
      });
      const client = new Client({ name: "claude-code-stand-in", version: "1.0.0" });
      await client.connect(transport);
      // The bridge serves resource subscriptions itself (the server's /mcp is stateless).
      expect(client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true });
      await client.subscribeResource({ uri: "locks://current" });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["acquire_lock", "get_work", "remember"]));
      const viaMcp = await client.callTool({ name: "acquire_lock", arguments: { file_path: `mcp-${suffix}.ts` } });
      expect(viaMcp.isError).toBeFalsy();

      const lockRow = async (key: string) =>
        (
          await db.query<{ agent_id: string; session_id: string }>(
            "select agent_id, session_id from coord.locks where key = $1 and expires_at > now()",
            [key],
          )
        )[0];
      const event = (path: string) =>
        JSON.stringify({
          session_id: "cc-1",
          transcript_path: join(home, "t.jsonl"),
          cwd: project,
          hook_event_name: "PreToolUse",
          tool_name: "Write",
          tool_input: { file_path: join(project, path), content: "x" },
        });
      // The plugin's hook command, run by a shell as Claude Code runs it.
      const pluginHook = expand(manifest.hooks.PreToolUse[0].hooks[0].command, vars);
      const allowed = await run("sh", ["-c", pluginHook], {
        env: vars,
        stdin: event(`src/${suffix}.ts`),
        cwd: project,
      });
      expect(allowed, allowed.stderr).toMatchObject({ code: 0, stdout: "" });
      const session = (await lockRow(`mcp-${suffix}.ts`))!.session_id;
      expect(await lockRow(`src/${suffix}.ts`)).toEqual({ agent_id: agent, session_id: session });

      await testApp(db).app.request("/locks/acquire", {
        method: "POST",
        headers: agentHeaders(`holder-${suffix}`),
        body: JSON.stringify({ file_path: `src/held-${suffix}.ts`, reason: "holding" }),
      });
      // The settings.json form (`mcp-bridge hook --print-config`), with Claude Code's CLAUDE_PROJECT_DIR.
      const printed = await run(node, [join(bridgeDir, "bin/mcp-bridge.js"), "hook", "--print-config"], { env: vars });
      const settingsHook = JSON.parse(printed.stdout).hooks.PreToolUse[0].hooks[0].command;
      const denied = await run("sh", ["-c", settingsHook], {
        env: vars,
        stdin: event(`src/held-${suffix}.ts`),
        cwd: project,
      });
      expect(JSON.parse(denied.stdout).hookSpecificOutput).toMatchObject({
        permissionDecision: "deny",
        permissionDecisionReason: expect.stringContaining(`by holder-${suffix}`),
      });

      await client.close();
      expect(
        await eventually(async () => !(await lockRow(`src/${suffix}.ts`)) && !(await lockRow(`mcp-${suffix}.ts`))),
      ).toBe(true);
    });

    it(`${version}: the client from plain Node ESM`, async () => {
      const r = await run(node, ["smoke.mjs", server.url, AGENT_KEY, `node${suffix}`], { env: env(), cwd: project });
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        me: `smoke-a-node${suffix}`,
        event: ["lock.acquired", `smoke-a-node${suffix}`, "number"],
        token: expect.any(Number),
        refused: [409, "lock_conflict", `smoke-a-node${suffix}`],
        released: 1,
        claimed: true,
        completed: "completed",
        ended: true,
      });
    });
  });

  it("the client from Deno", async () => {
    const r = await run(
      process.execPath,
      [
        DENO,
        "run",
        "--quiet",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "smoke.mjs",
        server.url,
        AGENT_KEY,
        "deno",
      ],
      { env: { PATH: process.env.PATH!, HOME: home, NO_COLOR: "1", DENO_DIR: join(home, "deno") }, cwd: project },
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({
      me: "smoke-a-deno",
      event: ["lock.acquired", "smoke-a-deno", "number"],
      refused: [409, "lock_conflict", "smoke-a-deno"],
    });
  }, 120_000);

  it("the bridge from Deno: MCP tools through the installed package, and its session ends with it", async () => {
    const agent = "bridge-deno";
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [DENO, "run", "--quiet", "--allow-all", join(bridgeDir, "bin/mcp-bridge.js")],
      env: {
        PATH: process.env.PATH!,
        HOME: home,
        XDG_RUNTIME_DIR: home,
        NO_COLOR: "1",
        DENO_DIR: join(home, "deno"),
        COORDINATOR_URL: server.url,
        COORDINATION_API_KEY: AGENT_KEY,
        AGENT_ID: agent,
      },
      cwd: project,
      stderr: "pipe",
    });
    const client = new Client({ name: "deno-bridge-check", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["acquire_lock", "get_work", "remember"]));
    const got = await client.callTool({ name: "acquire_lock", arguments: { file_path: "deno-bridge.ts" } });
    expect(got.isError).toBeFalsy();
    const held = () =>
      db.query<{ agent_id: string; session_id: string | null }>(
        "select agent_id, session_id from coord.locks where key = 'deno-bridge.ts' and expires_at > now()",
      );
    const [row] = await held();
    // The lock belongs to the bridge's heartbeating session, so it ends with the bridge.
    expect(row).toMatchObject({ agent_id: agent, session_id: expect.any(String) });
    await client.close();
    expect(await eventually(async () => (await held()).length === 0)).toBe(true);
  }, 120_000);

  it("`npx mcp-bridge` runs the installed bin; the git guard works from the installed package", async () => {
    const env = {
      PATH: process.env.PATH!,
      HOME: home,
      XDG_RUNTIME_DIR: home,
      npm_config_cache: join(home, "npm-cache"),
      COORDINATOR_URL: server.url,
      COORDINATION_API_KEY: AGENT_KEY,
      AGENT_ID: "guarded-agent",
    };
    const check = await run("npx", ["mcp-bridge", "--check"], { env, cwd: project });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/key: +accepted — acts as guarded-agent/);

    const install = await run("npx", ["mcp-bridge", "guard", "install"], { env, cwd: project });
    expect(install.code, install.stderr).toBe(0);
    mkdirSync(join(project, "lib"), { recursive: true });
    writeFileSync(join(project, "lib/shared.ts"), "x\n");
    await testApp(db).app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("someone-else"),
      body: JSON.stringify({ file_path: "lib/shared.ts", reason: "their change" }),
    });
    execFileSync("git", ["add", "lib/shared.ts"], { cwd: project });
    const refused = await run("git", ["commit", "-m", "x"], { env, cwd: project });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/lib\/shared\.ts: locked by someone-else/);
  });
});
