/**
 * `tsx scripts/verify-runner.ts -- <command…>`: a local runner for verification tiers 2 and 3. Configured by
 * COORDINATOR_URL, COORDINATION_API_KEY, AGENT_ID (and optionally SESSION_ID, VERIFY_TASK_TYPES, VERIFY_CWD). The
 * command runs in VERIFY_CWD (default: the current directory) with VERIFY_REPO, VERIFY_BRANCH, VERIFY_COMMIT_SHA,
 * VERIFY_TIER set; it should check out VERIFY_COMMIT_SHA and exit 0 when the suite passes.
 */
import { AgentCoordinationClient } from "../client/src/index.ts";
import { runOnce } from "./runner/verify-runner.ts";

async function main() {
  const dash = process.argv.indexOf("--");
  const command = dash >= 0 ? process.argv.slice(dash + 1) : process.argv.slice(2);
  const { COORDINATOR_URL, COORDINATION_API_KEY, AGENT_ID } = process.env;
  if (!COORDINATOR_URL || !COORDINATION_API_KEY || !AGENT_ID || command.length === 0) {
    process.stderr.write(
      "usage: COORDINATOR_URL=… COORDINATION_API_KEY=… AGENT_ID=… tsx scripts/verify-runner.ts -- <command…>\n",
    );
    process.exit(2);
  }
  const client = new AgentCoordinationClient({
    baseUrl: COORDINATOR_URL,
    apiKey: COORDINATION_API_KEY,
    agentId: AGENT_ID,
    agentType: "verify-runner",
    sessionId: process.env.SESSION_ID ?? `runner-${process.pid}`,
  });
  const taskTypes = process.env.VERIFY_TASK_TYPES?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (;;) {
    const outcome = await runOnce({
      client,
      command,
      cwd: process.env.VERIFY_CWD ?? process.cwd(),
      taskTypes,
      waitSeconds: 20,
    });
    if (outcome)
      process.stderr.write(
        `verify-runner: task ${outcome.taskId} ${outcome.passed ? "passed" : "failed"} on ${outcome.commitSha ?? "unknown commit"}\n`,
      );
  }
}

main().catch((err) => {
  process.stderr.write(`verify-runner: ${(err as Error).message}\n`);
  process.exit(1);
});
