/** The parts of the MCP SDK the bridge pipes through, in one module so the bundle loads them as one chunk. */
export { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
export { isJSONRPCRequest, isJSONRPCResultResponse } from "@modelcontextprotocol/sdk/types.js";
export type { JSONRPCMessage, JSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
