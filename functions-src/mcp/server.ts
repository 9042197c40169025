/**
 * The MCP server behind `/mcp`: the SDK's server and transport. mcp/route.ts imports this module on the first MCP
 * request, not at start: the SDK (with the JSON-schema validator it loads) is a large part of the module graph, and
 * an edge instance that only answers REST calls never needs it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Capability } from "../ops/capability.ts";
import { registerOperationTool } from "../ops/operation.ts";
import type { OpContext } from "../types.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS =
  "Agent Coordinator: lock files before editing them, take work from the shared queue, and remember what you learn. " +
  "Refusals say who holds what and what to do next.";

/**
 * Builds the MCP server for one request: every capability's tools and resources, bound to this caller. `tools` is
 * the tools/list answer, computed once per app; `preamble` puts the session's notices first in a tool answer.
 */
export function buildMcpServer(
  ctx: OpContext,
  capabilities: readonly Capability[],
  tools: Tool[],
  preamble?: () => Promise<string | null>,
): McpServer {
  const server = new McpServer({ name: "agent-coordinator", version: VERSION }, { instructions: INSTRUCTIONS });
  for (const cap of capabilities) {
    for (const op of cap.operations) if (op.tool !== false) registerOperationTool(server, ctx, op, preamble);
    for (const res of cap.resources ?? []) {
      server.registerResource(
        res.name,
        res.uri,
        { title: res.title, description: res.description, mimeType: "application/json" },
        async (uri: URL) => ({
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
 * Answers one MCP request with a fresh server and transport, never shared: the caller's identity is bound into the
 * tools, and nothing of one request can leak into another. `parsedBody` is the POST body the input gate parsed.
 */
export async function serveMcp(
  request: Request,
  parsedBody: unknown,
  ctx: OpContext,
  capabilities: readonly Capability[],
  tools: Tool[],
  preamble: () => Promise<string | null>,
): Promise<Response> {
  const server = buildMcpServer(ctx, capabilities, tools, preamble);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
  } finally {
    // JSON responses are complete when handleRequest resolves; closing frees the per-request server.
    await server.close();
  }
}
