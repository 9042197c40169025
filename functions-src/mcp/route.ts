import { Hono, type MiddlewareHandler } from "hono";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { inspectJson, gateError, violationMessage } from "../http/input-gate.ts";
import { takeNotices } from "../identity/notices.ts";
import type { Capability } from "../ops/capability.ts";
import { errorResponse, type PathItem } from "../ops/openapi.ts";
import { toolDefinition, toolError } from "../ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";

/** The tools/list answer: every capability's tools, compact (toolDefinition). The same for every caller. */
export function toolList(capabilities: readonly Capability[]): Tool[] {
  return capabilities.flatMap((cap) => cap.operations.filter((op) => op.tool !== false).map(toolDefinition));
}

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

/** The MCP server module (mcp/server.ts), loaded by the first MCP request and kept. */
let serverModule: Promise<typeof import("./server.ts")> | undefined;

function loadServer(): Promise<typeof import("./server.ts")> {
  // A failed import is not kept: the next request tries again.
  serverModule ??= import("./server.ts").catch((err) => {
    serverModule = undefined;
    throw err;
  });
  return serverModule;
}

/**
 * Loads the MCP server module ahead of the first MCP request. A long-lived host (`npm start`) calls it once it
 * listens, so a bridge's first request does not pay for the SDK; an edge start never does.
 */
export function preloadMcp(): Promise<void> {
  return loadServer().then(
    () => undefined,
    () => undefined,
  );
}

/**
 * `/mcp`: Streamable HTTP, stateless. A fresh server and transport per request, never shared: the caller's
 * identity is bound into the tools, and nothing of one request can leak into another.
 *
 * Nothing of MCP is built at start: the SDK is imported, and the tools/list answer (every tool's schemas converted
 * to JSON Schema) computed, on the first MCP request and kept for the app's life. An edge start that serves REST
 * only pays for neither.
 */
export function mcpRoutes(deps: AppDeps, auth: MiddlewareHandler<AppEnv>, capabilities: readonly Capability[]) {
  let tools: Tool[] | undefined;
  return new Hono<AppEnv>().on(["GET", "POST", "DELETE"], "/mcp", auth, async (c) => {
    let parsedBody: unknown;
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (c.req.method === "POST" && type === "application/json") {
      const gated = gateMcpBody(await c.req.text());
      if ("refused" in gated) return gated.refused;
      parsedBody = gated.parsed;
    }
    const { serveMcp } = await loadServer();
    tools ??= toolList(capabilities);
    const ctx: OpContext = { ...deps, identity: c.get("identity"), requestId: c.get("requestId") };
    return serveMcp(c.req.raw, parsedBody, ctx, capabilities, tools, noticesOnce(ctx, c.get("pendingNotices") ?? 0));
  });
}

const JSON_RPC = {
  type: "object",
  required: ["jsonrpc"],
  description: "A JSON-RPC 2.0 message (MCP): a request with id and method, or a notification",
  properties: {
    jsonrpc: { type: "string", const: "2.0" },
    id: { anyOf: [{ type: "string" }, { type: "integer" }] },
    method: { type: "string", description: "initialize, tools/list, tools/call, resources/read, …" },
    params: { type: "object" },
  },
};

/** The OpenAPI description of `/mcp`: MCP's Streamable HTTP transport, stateless, behind the same key. */
export const MCP_DOCS: Record<string, PathItem> = {
  "/mcp": {
    post: {
      operationId: "mcp",
      summary: "MCP (Streamable HTTP)",
      description:
        "The MCP endpoint: every tool and resource, bound to the caller's key and identity headers. Stateless: no " +
        "Mcp-Session-Id; each request is answered on its own. Send Accept: application/json, text/event-stream.",
      tags: ["mcp"],
      parameters: [
        { $ref: "#/components/parameters/AgentId" },
        { $ref: "#/components/parameters/AgentType" },
        { $ref: "#/components/parameters/SessionId" },
      ],
      requestBody: { required: true, content: { "application/json": { schema: JSON_RPC } } },
      responses: {
        "200": {
          description: "The JSON-RPC response (errors included, as JSON-RPC errors)",
          content: { "application/json": { schema: { type: "object" } } },
        },
        "202": { description: "A notification or response was accepted; nothing to answer" },
        "400": errorResponse(400),
        "401": errorResponse(401),
        "403": errorResponse(403),
        "406": {
          description: "Accept must list both application/json and text/event-stream",
          content: { "application/json": { schema: { type: "object" } } },
        },
        "413": errorResponse(413),
        "500": errorResponse(500),
        "503": errorResponse(503),
      },
    },
    get: {
      operationId: "mcp_stream",
      summary: "MCP server-to-client stream",
      description: "Stateless: the server sends nothing unprompted, so the stream ends at once.",
      tags: ["mcp"],
      responses: {
        "200": {
          description: "An empty event stream",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        "401": errorResponse(401),
      },
    },
    delete: {
      operationId: "mcp_end_session",
      summary: "End an MCP session",
      description: "Stateless: there is no MCP session to end (agent sessions end with POST /sessions/end).",
      tags: ["mcp"],
      responses: { "200": { description: "Nothing to end" }, "401": errorResponse(401) },
    },
  },
};
