import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CAPABILITIES } from "../app.ts";
import { agentHeaders, forEachDatabase, resourceJson, testApp } from "../../test/helpers.ts";

/** An MCP client whose HTTP goes straight into `app.request()`. */
async function connect(app: ReturnType<typeof testApp>["app"], headers: Record<string, string>) {
  const client = new Client({ name: "route-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
      requestInit: { headers },
      fetch: (url, init) => Promise.resolve(app.request(String(url), init as RequestInit)),
    }),
  );
  return client;
}

forEachDatabase("MCP at /mcp", (get) => {
  it("requires a key like every other route", async () => {
    const { app } = testApp(get().db);
    const res = await app.request("/mcp", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
      }),
    });
    expect(res.status).toBe(401);
  });

  it("initializes statelessly, lists the status resource and reads it as the calling agent", async () => {
    const { app } = testApp(get().db);
    const { "Content-Type": _ct, ...headers } = agentHeaders("mcp-route-agent", { "X-Session-Id": "mcp-s1" });
    const client = await connect(app, headers);
    expect(client.getServerVersion()).toMatchObject({ name: "agent-coordinator" });
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain("coordinator://status");
    const status = resourceJson(await client.readResource({ uri: "coordinator://status" }));
    expect(status.agents).toBeGreaterThanOrEqual(1);
    const seen = await get().db.query(
      "select 1 from coord.sessions where agent_id = 'mcp-route-agent' and session_id = 'mcp-s1'",
    );
    expect(seen).toHaveLength(1);
    await client.close();
  });
});

describe("the agent surface stays small", () => {
  const tools = CAPABILITIES.flatMap((c) => c.operations).filter((op) => op.tool !== false);

  it("has few tools, with unique snake_case names and short descriptions", () => {
    expect(tools.length).toBeLessThanOrEqual(16);
    expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
    for (const t of tools) {
      expect(t.name).toMatch(/^[a-z][a-z_]{2,40}$/);
      expect(t.description.length, `${t.name} description`).toBeLessThanOrEqual(200);
    }
  });

  it("every tool declares its hints and an object output schema", () => {
    for (const t of tools) {
      expect(Object.keys(t.hints).length, `${t.name} hints`).toBeGreaterThan(0);
      expect(t.output.def.type).toBe("object");
    }
  });
});
