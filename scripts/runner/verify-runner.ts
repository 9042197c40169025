/**
 * A local verification runner: claims `verify:unit` / `verify:integration` / `verify:system` tasks from the work queue, runs a command
 * for each, and reports the result with `complete_work`. The evidence is the commit the command actually tested: the
 * runner reads `git rev-parse HEAD` in its working directory after the command (which checks out VERIFY_COMMIT_SHA).
 * `scripts/verify-runner.ts` runs it against a coordinator; tests drive `runOnce` in process.
 */
import { spawn } from "node:child_process";
import type { AgentCoordinationClient } from "../../client/src/index.ts";

export interface RunnerOptions {
  client: AgentCoordinationClient;
  /** The command and its arguments, run once per job with VERIFY_* in its environment. */
  command: string[];
  /** The checkout the command works in (a git working tree). */
  cwd: string;
  taskTypes?: string[];
  waitSeconds?: number;
  /** Seconds before a command is killed and the job reported failed. */
  timeoutSeconds?: number;
}

export interface RunOutcome {
  taskId: string;
  passed: boolean;
  commitSha: string | null;
  exitCode: number | null;
}

function run(
  cmd: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: err.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Claims at most one job and runs it; resolves to null when there was no work. */
export async function runOnce(o: RunnerOptions): Promise<RunOutcome | null> {
  const { tasks } = await o.client.getWork({
    task_types: o.taskTypes ?? ["verify:unit", "verify:integration", "verify:system"],
    wait_seconds: o.waitSeconds ?? 0,
    limit: 1,
  });
  const task = tasks[0];
  if (!task) return null;
  const job = task.input_data as {
    repo: string;
    branch: string | null;
    commit_sha: string;
    tier: number;
    changeset_id: string;
  };
  const env = {
    VERIFY_REPO: job.repo,
    VERIFY_BRANCH: job.branch ?? "",
    VERIFY_COMMIT_SHA: job.commit_sha,
    VERIFY_TIER: String(job.tier),
    VERIFY_CHANGESET_ID: job.changeset_id,
  };
  // The claim's lease renews with the session heartbeat: keep it alive while the command runs.
  const beat = setInterval(() => void o.client.heartbeat().catch(() => {}), 30_000);
  const result = await run(o.command, o.cwd, env, (o.timeoutSeconds ?? 1800) * 1000).finally(() => clearInterval(beat));
  const head = await run(["git", "rev-parse", "HEAD"], o.cwd, {}, 10_000);
  const commitSha = head.code === 0 ? head.output.trim() : null;
  const passed = result.code === 0 && commitSha !== null;
  await o.client.completeWork({
    task_id: task.id,
    claim_token: task.claim_token ?? undefined,
    success: true,
    result: {
      passed,
      commit_sha: commitSha ?? "",
      summary:
        result.code === 0
          ? commitSha
            ? "command passed"
            : "command passed but the tested commit is unknown (not a git checkout)"
          : `command exited ${result.code ?? "abnormally"}`,
      output_tail: result.output.slice(-2000),
    },
  });
  return { taskId: task.id, passed, commitSha, exitCode: result.code };
}
