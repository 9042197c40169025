import { Hono, type MiddlewareHandler } from "hono";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Capability } from "../ops/capability.ts";
import { ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { registerOperationTool, toolDefinition } from "../ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS =
  "Agent Coordinator: lock files before editing them, take work from the shared queue, and remember what you learn. " +
  "Refusals say who holds what and what to do next.";

/** The tools/list answer: every capability's tools, compact (toolDefinition). The same for every caller. */
export function toolList(capabilities: readonly Capability[]): Tool[] {
  return capabilities.flatMap((cap) => cap.operations.filter((op) => op.tool !== false).map(toolDefinition));
}

/**
 * Builds the MCP server for one request: every capability's tools and resources, bound to this caller. `tools` is
 * the tools/list answer, computed once per app.
 */
export function buildMcpServer(
  ctx: OpContext,
  capabilities: readonly Capability[],
  tools: Tool[] = toolList(capabilities),
): McpServer {
  const server = new McpServer({ name: "agent-coordinator", version: VERSION }, { instructions: INSTRUCTIONS });
  for (const cap of capabilities) {
    for (const op of cap.operations) if (op.tool !== false) registerOperationTool(server, ctx, op);
    for (const res of cap.resources ?? []) {
      server.registerResource(
        res.name,
        res.uri,
        { title: res.title, description: res.description, mimeType: "application/json" },
        async (uri) => ({
          contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(await res.read(ctx)) }],
        }),
      );
    }
  }
  // The SDK would list each tool's full zod schemas; the list agents read is the compact cut (ops/json-schema.ts).
  // Calls still go through the SDK's handler, which validates arguments and structuredContent with the full schemas.
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  return server;
}

/**
 * `/mcp`: Streamable HTTP, stateless. A fresh server and transport per request, never shared: the caller's
 * identity is bound into the tools, and nothing of one request can leak into another.
 */
export function mcpRoutes(deps: AppDeps, auth: MiddlewareHandler<AppEnv>, capabilities: readonly Capability[]) {
  const tools = toolList(capabilities);
  return new Hono<AppEnv>().on(["GET", "POST", "DELETE"], "/mcp", auth, async (c) => {
    const ctx: OpContext = { ...deps, identity: c.get("identity"), requestId: c.get("requestId") };
    const server = buildMcpServer(ctx, capabilities, tools);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      // JSON responses are complete when handleRequest resolves; closing frees the per-request server.
      await server.close();
    }
  });
}
