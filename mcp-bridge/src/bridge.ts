/**
 * The stdio bridge: a transport pipe. Every MCP message from the agent (stdio) goes to `${COORDINATOR_URL}/mcp` and
 * every answer comes back, untouched; the bridge declares no tool of its own. Besides the pipe it does what a remote
 * server cannot do for a local process: it heartbeats the agent's session every 30 s while the process lives (the
 * coordinator renews the session's locks and claims), ends the session when stdin closes or the process is told to
 * stop (the coordinator releases them), writes a session file so the agent's hooks act in the same session, and
 * serves MCP resource subscriptions and session messages from the coordinator's event stream (the stateless `/mcp`
 * cannot hold them): it answers `resources/subscribe`, `resources/unsubscribe` and `logging/setLevel` itself and adds
 * `resources.subscribe` and `logging` to the capabilities the server's `initialize` answer declares.
 * Protocol on stdout only; logs on stderr.
 */
import { AgentCoordinationClient } from "../../client/src/index.ts";
import { BridgeConfigError, explainRefusal, readConfig, type Env } from "./config.ts";
import type { JSONRPCMessage, JSONRPCRequest } from "./sdk.ts";
import {
  projectDirOf,
  removeSessionFile,
  type SessionRecord,
  touchSessionFile,
  writeSessionFile,
} from "./session-file.ts";
import { LEVELS, type Level, SUBSCRIBABLE, Subscriptions } from "./subscriptions.ts";

const log = (msg: string) => process.stderr.write(`mcp-bridge: ${msg}\n`);

export async function runBridge(env: Env): Promise<void> {
  const config = readConfig(env);
  // The MCP SDK (and zod under it) takes most of the start-up: load it while the preflight requests are in flight.
  const sdk = import("./sdk.ts");
  const client = new AgentCoordinationClient({
    baseUrl: config.url,
    apiKey: config.apiKey,
    agentId: config.agentId ?? undefined,
    agentType: config.agentType ?? undefined,
    sessionId: config.sessionId,
  });

  // Checks the URL, the key and the identity before piping anything, so a bad setup fails with one clear line; the
  // first heartbeat opens the session, whoami says which agent the key acts as (for the session file).
  let me: { agent_id: string };
  try {
    [, me] = await Promise.all([
      client.heartbeat({}, { retry: false, timeoutMs: 10_000 }),
      client.whoami({}, { retry: false, timeoutMs: 10_000 }),
    ]);
  } catch (err) {
    throw new BridgeConfigError(explainRefusal(err, config));
  }

  const record: SessionRecord = {
    version: 1,
    pid: process.pid,
    session_id: config.sessionId,
    agent_id: me.agent_id,
    agent_type: config.agentType,
    coordinator_url: config.url,
    project_root: projectDirOf(env, process.cwd()),
    heartbeat_ms: config.heartbeatMs,
    started_at: new Date().toISOString(),
  };
  const sessionFile = await writeSessionFile(env, record).catch((err: Error) => {
    log(`no session file (hooks will not find this session): ${err.message}`);
    return null;
  });

  const { StdioServerTransport, StreamableHTTPClientTransport, isJSONRPCRequest, isJSONRPCResultResponse } = await sdk;
  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(new URL(`${config.url}/mcp`), {
    requestInit: { headers: { ...client.headers } },
  });
  const subscriptions = new Subscriptions({
    // Without the session header: listening is not a sign of the session's life (heartbeats and calls are), so a
    // stream reconnecting on its own never extends the session's liveness.
    client: new AgentCoordinationClient({
      baseUrl: config.url,
      apiKey: config.apiKey,
      agentId: me.agent_id,
      agentType: config.agentType ?? undefined,
    }),
    me: { agentId: me.agent_id, sessionId: config.sessionId },
    send: (n) => void local.send(n),
    log,
  });

  let ending = false;
  const heartbeat = setInterval(() => {
    client
      .heartbeat({}, { retry: false, timeoutMs: Math.max(config.heartbeatMs, 5000) })
      .then(() => (sessionFile ? touchSessionFile(sessionFile) : undefined))
      .catch((err: Error) => log(`heartbeat failed: ${err.message}`));
  }, config.heartbeatMs);

  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    clearInterval(heartbeat);
    subscriptions.close();
    log(`${why}: ending session ${config.sessionId}`);
    if (sessionFile) await removeSessionFile(sessionFile).catch(() => {});
    try {
      await client.endSession({}, { timeoutMs: 5000, retry: { retries: 2, baseDelayMs: 100 } });
    } catch (err) {
      log(`could not end the session (${(err as Error).message}); its leases expire when its heartbeats stop`);
    }
    await remote.close().catch(() => {});
    process.exit(0);
  };

  // Requests the bridge answers itself; initialize answers it amends. Everything else goes through untouched.
  const initializing = new Set<string | number>();
  const answerLocally = (message: JSONRPCRequest): boolean => {
    const params = (message.params ?? {}) as Record<string, unknown>;
    const reply = (result: Record<string, unknown>) => void local.send({ jsonrpc: "2.0", id: message.id, result });
    const refuse = (text: string) =>
      void local.send({ jsonrpc: "2.0", id: message.id, error: { code: -32602, message: text } });
    switch (message.method) {
      case "initialize":
        initializing.add(message.id);
        return false;
      case "resources/subscribe":
      case "resources/unsubscribe": {
        const uri = typeof params.uri === "string" ? params.uri : "";
        if (!Subscriptions.subscribable(uri)) {
          refuse(
            `${uri || "(no uri)"} cannot be subscribed to: subscribe to ${Object.keys(SUBSCRIBABLE).join(" or ")}`,
          );
        } else {
          // Answered once the stream is open (or after a bounded wait): changes from then on are announced.
          if (message.method === "resources/subscribe") void subscriptions.subscribe(uri).then(() => reply({}));
          else {
            subscriptions.unsubscribe(uri);
            reply({});
          }
        }
        return true;
      }
      case "logging/setLevel":
        if (!LEVELS.includes(params.level as Level)) refuse(`level must be one of ${LEVELS.join(", ")}`);
        else {
          subscriptions.setLevel(params.level as Level);
          reply({});
        }
        return true;
      default:
        return false;
    }
  };

  const forward = (message: JSONRPCMessage) => {
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

  // The first tool call opens the session's event stream and waits (boundedly) until it is open, so whatever that
  // call takes (a lock, a claim) is followed; messages behind it wait too, to keep their order.
  let gate: Promise<void> | null = null;
  let streamNeeded = false;
  local.onmessage = (message) => {
    if (isJSONRPCRequest(message)) {
      if (answerLocally(message)) return;
      if (message.method === "tools/call" && !streamNeeded) {
        streamNeeded = true;
        const opening = subscriptions.needed().then(() => {
          if (gate === opening) gate = null;
        });
        gate = opening;
      }
    }
    if (gate) void gate.then(() => forward(message));
    else forward(message);
  };
  remote.onmessage = (message) => {
    if (isJSONRPCResultResponse(message) && initializing.delete(message.id)) {
      // The server is stateless and declares no subscriptions or logging; the bridge serves both.
      const result = message.result as { capabilities?: Record<string, Record<string, unknown> | undefined> };
      const capabilities = result.capabilities ?? {};
      result.capabilities = capabilities;
      capabilities.resources = { ...capabilities.resources, subscribe: true };
      capabilities.logging = { ...capabilities.logging };
    }
    void local.send(message);
  };
  remote.onerror = (err) => log(`coordinator: ${err.message}`);
  local.onerror = (err) => log(`stdio: ${err.message}`);
  local.onclose = () => void end("stdin closed");
  process.stdin.on("end", () => void end("stdin closed"));
  process.on("SIGTERM", () => void end("SIGTERM"));
  process.on("SIGINT", () => void end("SIGINT"));
  process.on("SIGHUP", () => void end("SIGHUP"));

  await remote.start();
  await local.start();
  log(`piping stdio ⇄ ${config.url}/mcp as ${me.agent_id}, session ${config.sessionId}`);
}
