import { Hono, type MiddlewareHandler } from "hono";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { inspectJson, gateError, violationMessage } from "../http/input-gate.ts";
import type { Capability } from "../ops/capability.ts";
import { registerOperationTool, toolError } from "../ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS =
  "Agent Coordinator: lock files before editing them, take work from the shared queue, and remember what you learn. " +
  "Refusals say who holds what and what to do next.";

/** Builds the MCP server for one request: every capability's tools and resources, bound to this caller. */
export function buildMcpServer(ctx: OpContext, capabilities: readonly Capability[]): McpServer {
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
  return server;
}

type JsonRpcId = string | number | null;

function jsonRpc(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/**
 * The input gate for MCP, before the SDK sees the message: a POST body is parsed once and checked, and handed to the
 * transport already parsed. A violation answers in the form MCP clients show: inside a `tools/call`'s arguments, a
 * tool result with `isError` naming the argument (as every other bad argument); anywhere else in a request, a
 * JSON-RPC error (-32602, invalid params). A clean message comes back parsed.
 */
function gateMcpBody(text: string): { refused: Response } | { parsed: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      refused: jsonRpc(
        { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error: Invalid JSON" } },
        400,
      ),
    };
  }
  const message =
    body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  const id: JsonRpcId =
    message && (typeof message.id === "string" || typeof message.id === "number") ? message.id : null;
  const params = message?.params;
  const args =
    message?.method === "tools/call" && params !== null && typeof params === "object"
      ? (params as Record<string, unknown>).arguments
      : undefined;
  if (args !== undefined && id !== null) {
    // A tool's arguments are a document of their own: level 1 is the arguments object, as a REST body is.
    const bad = inspectJson(args, 1);
    if (bad) return { refused: jsonRpc({ jsonrpc: "2.0", id, result: toolError(gateError(bad)) }) };
  }
  const envelope = args !== undefined ? { ...message, params: { ...(params as object), arguments: {} } } : body;
  const bad = inspectJson(envelope);
  if (bad) {
    const error = { code: -32602, message: `Invalid params: ${violationMessage(bad)}` };
    return { refused: jsonRpc({ jsonrpc: "2.0", id, error }, id === null ? 400 : 200) };
  }
  return { parsed: body };
}

/**
 * `/mcp`: Streamable HTTP, stateless. A fresh server and transport per request, never shared: the caller's
 * identity is bound into the tools, and nothing of one request can leak into another.
 */
export function mcpRoutes(deps: AppDeps, auth: MiddlewareHandler<AppEnv>, capabilities: readonly Capability[]) {
  return new Hono<AppEnv>().on(["GET", "POST", "DELETE"], "/mcp", auth, async (c) => {
    let parsedBody: unknown;
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (c.req.method === "POST" && type === "application/json") {
      const gated = gateMcpBody(await c.req.text());
      if ("refused" in gated) return gated.refused;
      parsedBody = gated.parsed;
    }
    const ctx: OpContext = { ...deps, identity: c.get("identity"), requestId: c.get("requestId") };
    const server = buildMcpServer(ctx, capabilities);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw, parsedBody === undefined ? undefined : { parsedBody });
    } finally {
      // JSON responses are complete when handleRequest resolves; closing frees the per-request server.
      await server.close();
    }
  });
}
