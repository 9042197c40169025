/**
 * mcp-bridge: a transport pipe. Every MCP message from the agent (stdio) goes to `${COORDINATOR_URL}/mcp` and every
 * answer comes back, untouched; the bridge declares no tool of its own. Besides the pipe it does two things a
 * remote server cannot do for a local process: it heartbeats the agent's session every 30 s while the process
 * lives (the coordinator renews the session's locks and claims), and it ends the session when stdin closes or the
 * process is told to stop (the coordinator releases them). Protocol on stdout only; logs on stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { isJSONRPCRequest, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { BridgeConfigError, identityHeaders, readConfig, type BridgeConfig } from "./config.ts";

const log = (msg: string) => process.stderr.write(`mcp-bridge: ${msg}\n`);

async function post(config: BridgeConfig, path: string): Promise<Response> {
  return fetch(`${config.url}${path}`, {
    method: "POST",
    headers: { ...identityHeaders(config), "Content-Type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(10_000),
  });
}

/** Checks the URL and the key before piping anything, so a bad setup fails with one clear line. */
async function preflight(config: BridgeConfig): Promise<void> {
  let res: Response;
  try {
    res = await post(config, "/sessions/heartbeat");
  } catch (err) {
    // fetch wraps the socket error; with several addresses (localhost → ::1, 127.0.0.1) it is an AggregateError.
    const c = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
    const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err as Error).message;
    throw new BridgeConfigError(`cannot reach the coordinator at ${config.url} (${cause}); is it running?`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new BridgeConfigError(
      `coordinator refused the bridge (${res.status}): ${body?.error?.message ?? res.statusText}`,
    );
  }
}

async function main() {
  const config = readConfig(process.env);
  await preflight(config);

  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(new URL(`${config.url}/mcp`), {
    requestInit: { headers: identityHeaders(config) },
  });

  let ending = false;
  const heartbeat = setInterval(() => {
    post(config, "/sessions/heartbeat")
      .then((r) => {
        if (!r.ok) log(`heartbeat refused (${r.status})`);
      })
      .catch((err) => log(`heartbeat failed: ${(err as Error).message}`));
  }, config.heartbeatMs);

  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    clearInterval(heartbeat);
    log(`${why}: ending session ${config.sessionId}`);
    try {
      await post(config, "/sessions/end");
    } catch (err) {
      log(`could not end the session (${(err as Error).message}); its leases expire at their TTL`);
    }
    await remote.close().catch(() => {});
    process.exit(0);
  };

  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch((err: Error) => {
      log(`forwarding failed: ${err.message}`);
      // A request must get an answer, or the agent waits forever.
      if (isJSONRPCRequest(message)) {
        void local.send({
          jsonrpc: "2.0",
          id: message.id,
          error: { code: -32000, message: `coordinator unreachable: ${err.message}` },
        });
      }
    });
  };
  remote.onmessage = (message) => void local.send(message);
  remote.onerror = (err) => log(`coordinator: ${err.message}`);
  local.onerror = (err) => log(`stdio: ${err.message}`);
  local.onclose = () => void end("stdin closed");
  process.stdin.on("end", () => void end("stdin closed"));
  process.on("SIGTERM", () => void end("SIGTERM"));
  process.on("SIGINT", () => void end("SIGINT"));

  await remote.start();
  await local.start();
  log(`piping stdio ⇄ ${config.url}/mcp as ${config.agentId ?? "(key's agent)"} session ${config.sessionId}`);
}

main().catch((err) => {
  log(err instanceof BridgeConfigError ? err.message : `failed: ${(err as Error).message}`);
  process.exit(1);
});
