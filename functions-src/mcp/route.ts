import { Hono, type MiddlewareHandler } from "hono";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { takeNotices } from "../identity/notices.ts";
import type { Capability } from "../ops/capability.ts";
import { registerOperationTool } from "../ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS =
  "Agent Coordinator: lock files before editing them, take work from the shared queue, and remember what you learn. " +
  "Refusals say who holds what and what to do next.";

/**
 * The preamble of this request's first tool answer: the session's lost-lock/claim notices, looked up only when the
 * presence call counted some (so an ordinary tool call costs no extra round trip).
 */
function noticesOnce(ctx: OpContext, pending: number): () => Promise<string | null> {
  let left = pending;
  return async () => {
    const sessionId = ctx.identity.sessionId;
    if (left <= 0 || !sessionId) return null;
    left = 0;
    return takeNotices(ctx.db, ctx.identity.agentId, sessionId);
  };
}

/** Builds the MCP server for one request: every capability's tools and resources, bound to this caller. */
export function buildMcpServer(
  ctx: OpContext,
  capabilities: readonly Capability[],
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
        async (uri) => ({
          contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(await res.read(ctx)) }],
        }),
      );
    }
  }
  return server;
}

/**
 * `/mcp`: Streamable HTTP, stateless. A fresh server and transport per request, never shared: the caller's
 * identity is bound into the tools, and nothing of one request can leak into another.
 */
export function mcpRoutes(deps: AppDeps, auth: MiddlewareHandler<AppEnv>, capabilities: readonly Capability[]) {
  return new Hono<AppEnv>().on(["GET", "POST", "DELETE"], "/mcp", auth, async (c) => {
    const ctx: OpContext = { ...deps, identity: c.get("identity"), requestId: c.get("requestId") };
    const server = buildMcpServer(ctx, capabilities, noticesOnce(ctx, c.get("pendingNotices") ?? 0));
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
