import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  BENCH_KEY,
  benchDatabase,
  httpClient,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
} from "./harness.ts";

const BRIDGE = fileURLToPath(new URL("../../mcp-bridge/bin/mcp-bridge.js", import.meta.url));

/** One MCP request (resources/read of coordinator://status) through a connected client, sequentially. */
async function mcpLatency(client: Client, durationMs: number) {
  return runLoad(1, () => client.readResource({ uri: "coordinator://status" }), { durationMs });
}

/**
 * The floor every route stands on: GET /health (routing, middleware, one query) at 32 connections, and the
 * latency of one MCP request straight to /mcp and through the stdio bridge.
 */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const duration = 3000 * ctx.scale;
  const targets: Array<"postgres" | "pglite"> = ctx.adminUrl ? ["postgres", "pglite"] : ["pglite"];
  for (const kind of targets) {
    const database = kind === "postgres" ? await benchDatabase(ctx.adminUrl!) : undefined;
    const server = await startServer(kind, database?.url);
    const http = httpClient(server.url);
    const headers = {
      Authorization: `Bearer ${BENCH_KEY}`,
      "X-Agent-Id": "bench-mcp",
      "X-Session-Id": "bench-mcp-session",
    };
    try {
      rows.push(
        row(
          "GET /health",
          "http",
          kind,
          32,
          await runLoad(32, () => http.call("GET", "/health"), { durationMs: duration }),
        ),
      );

      const direct = new Client({ name: "bench", version: "1" });
      await direct.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }),
      );
      rows.push(row("MCP resources/read status", "mcp", kind, 1, await mcpLatency(direct, duration)));
      await direct.close();

      const bridged = new Client({ name: "bench", version: "1" });
      await bridged.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [BRIDGE],
          stderr: "ignore",
          env: {
            PATH: process.env.PATH!,
            COORDINATOR_URL: server.url,
            COORDINATION_API_KEY: BENCH_KEY,
            AGENT_ID: "bench-bridge",
          },
        }),
      );
      rows.push(row("MCP resources/read status", "bridge", kind, 1, await mcpLatency(bridged, duration)));
      await bridged.close();
    } finally {
      http.close();
      await server.stop();
      await database?.drop();
    }
  }
  return rows;
}
