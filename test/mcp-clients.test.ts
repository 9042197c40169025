/**
 * What third-party MCP clients do with the coordinator's answers to a missing or wrong key: they must tell the person
 * to configure the key, not start (and fail) an OAuth sign-in. Real clients against a real listening server:
 * mcp-remote (the stdio proxy many agent hosts use for remote servers; it always attempts OAuth on a 401) and the MCP
 * TypeScript SDK's client, without and with an OAuth provider.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Db } from "../functions-src/db/port.ts";
import { AGENT_KEY, pgliteFromTemplate, testApp } from "./helpers.ts";
import { listen } from "./server.ts";

const MCP_REMOTE = createRequire(import.meta.url).resolve("mcp-remote/dist/proxy.js");
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Runs mcp-remote with JSON-RPC `messages` on stdin (one per line, each sent after the previous answer). */
function mcpRemote(args: string[], messages: object[], configDir: string) {
  return new Promise<{ code: number | null; answers: any[]; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MCP_REMOTE, ...args], {
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const answers: any[] = [];
    let stdout = "";
    let stderr = "";
    const queue = [...messages];
    // Send up to and including the next request (a message with an id); notifications need no answer.
    const next = () => {
      for (let m = queue.shift(); m; m = queue.shift()) {
        child.stdin.write(`${JSON.stringify(m)}\n`);
        if ("id" in m) return;
      }
      child.stdin.end();
    };
    child.stdout.on("data", (d) => {
      stdout += d;
      for (let nl = stdout.indexOf("\n"); nl >= 0; nl = stdout.indexOf("\n")) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line);
        answers.push(msg);
        if (msg.id !== undefined) next();
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    // A safety net, not an assertion: if mcp-remote waited for a browser sign-in it would hang here.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, answers, stderr });
    });
    next();
  });
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-clients-test", version: "1" } },
};

describe("MCP clients and the key (real listening server)", () => {
  let db: Db;
  let server: Awaited<ReturnType<typeof listen>>;
  let configDir: string;
  let mcpUrl: string;

  beforeAll(async () => {
    db = await pgliteFromTemplate();
    server = await listen(testApp(db).app);
    mcpUrl = `${server.url}/mcp`;
    configDir = await mkdtemp(join(tmpdir(), "coord-mcp-remote-"));
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await rm(configDir, { recursive: true, force: true });
  });

  it("the 401 names the Bearer scheme and the realm; OAuth discovery finds no metadata", async () => {
    const res = await fetch(mcpUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="agent-coordinator"');
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const meta = await fetch(`${server.url}${path}`);
      expect(meta.status).toBe(404);
      expect((await meta.json()).error.code).toBe("oauth_not_supported");
    }
  });

  it("mcp-remote without a key stops with the server's word that it takes an API key, not OAuth", async () => {
    const r = await mcpRemote([mcpUrl], [INITIALIZE], configDir);
    expect(r.code).not.toBe(0);
    expect(r.answers).toEqual([]);
    expect(r.stderr).toMatch(/oauth_not_supported/);
    expect(r.stderr).toMatch(/does not use OAuth; its 401 means the API key is missing or wrong/);
  }, 90_000);

  it("mcp-remote with --header connects and lists the tools", async () => {
    const r = await mcpRemote(
      [mcpUrl, "--header", `Authorization: Bearer ${AGENT_KEY}`, "--header", "X-Agent-Id: via-mcp-remote"],
      [
        INITIALIZE,
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
      ],
      configDir,
    );
    expect(r.answers[0]?.result?.serverInfo?.name, r.stderr.slice(-2000)).toBe("agent-coordinator");
    expect(r.answers[1]?.result?.tools?.map((t: { name: string }) => t.name)).toContain("acquire_lock");
  }, 90_000);

  it("the MCP SDK client without a key reports the server's message", async () => {
    const client = new Client({ name: "no-key", version: "1" });
    const error = await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl))).catch((e: Error) => e);
    expect(String(error)).toMatch(/401|No API key/);
    expect(String(error)).toMatch(/No API key: send Authorization: Bearer <key>/);
  });

  it("the MCP SDK client with an OAuth provider gives up at registration with the server's message", async () => {
    // In its own process: @hono/node-server replaces the global Response in this one, which the SDK's error parsing
    // checks with instanceof.
    const script = `
      import { Client } from "@modelcontextprotocol/sdk/client/index.js";
      import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
      let info;
      const provider = {
        redirectUrl: "http://127.0.0.1:1/callback",
        clientMetadata: { redirect_uris: ["http://127.0.0.1:1/callback"], client_name: "oauth-test" },
        clientInformation: () => info,
        saveClientInformation: (i) => { info = i; },
        tokens: () => undefined,
        saveTokens: () => {},
        redirectToAuthorization: () => console.log("redirected to a sign-in page"),
        saveCodeVerifier: () => {},
        codeVerifier: () => "verifier",
      };
      const client = new Client({ name: "oauth", version: "1" });
      const transport = new StreamableHTTPClientTransport(new URL(${JSON.stringify(mcpUrl)}), { authProvider: provider });
      await client.connect(transport).then(() => console.log("connected"), (e) => console.log(String(e)));
    `;
    const out = await new Promise<string>((resolve) => {
      let text = "";
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT });
      child.stdout.on("data", (d) => (text += d));
      child.stderr.on("data", (d) => (text += d));
      child.on("exit", () => resolve(text));
    });
    expect(out).toMatch(/HTTP 404.*oauth_not_supported/s);
    expect(out).toMatch(/does not use OAuth/);
    expect(out).not.toMatch(/redirected|connected/);
  });
});
