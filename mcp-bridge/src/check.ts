/** `mcp-bridge --check`: what the bridge would connect to, and whether the coordinator accepts its key and identity. */
import { AgentCoordinationClient } from "../../client/src/index.ts";
import { explainRefusal, readConfig, type Env } from "./config.ts";
import { projectDirOf, sessionsDir } from "./session-file.ts";

export async function check(env: Env): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const config = readConfig(env);
  out(`coordinator:  ${config.url}   (MCP endpoint ${config.url}/mcp)`);
  out(`agent:        ${config.agentId ?? "(not set: the key's bound agent)"}, type ${config.agentType ?? "unknown"}`);
  out(`session:      ${config.sessionIdGiven ? config.sessionId : "a new id per bridge process (SESSION_ID unset)"}`);
  out(`project:      ${projectDirOf(env, process.cwd())}   (session files in ${sessionsDir(env)})`);
  const client = new AgentCoordinationClient({
    baseUrl: config.url,
    apiKey: config.apiKey,
    agentId: config.agentId ?? undefined,
    agentType: config.agentType ?? undefined,
    retry: false,
    timeoutMs: 10_000,
  });
  try {
    const [me, status] = await Promise.all([client.whoami(), client.coordinatorStatus()]);
    out(`server:       agent-coordinator ${status.version}, schema ${status.schema_version}`);
    out(`key:          accepted — acts as ${me.agent_id} (scope ${me.scope}, trust level ${me.trust_level})`);
    return 0;
  } catch (err) {
    out(`key:          NOT OK — ${explainRefusal(err, config)}`);
    return 1;
  }
}
