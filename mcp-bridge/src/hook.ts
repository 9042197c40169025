/**
 * `mcp-bridge hook`: a Claude Code `PreToolUse` hook for Edit, MultiEdit, Write and NotebookEdit. It reads one hook
 * event (JSON) on stdin, maps the edited file to its path relative to the git root, and takes the file's lock for the
 * agent (mode `acquire`) or only checks it (mode `check`). Held by another agent → it denies the edit in Claude
 * Code's documented form (exit 0, `hookSpecificOutput.permissionDecision: "deny"` with the reason); free or already
 * ours → it allows (exit 0, no decision: Claude Code's own permission rules still apply).
 *
 * The lock is taken in the session of the agent's running bridge (found through its session file), so heartbeats keep
 * it and the bridge's exit releases it. With no running bridge the hook only checks, and says so.
 *
 * Coordinator unreachable: allow with a warning (default) or deny (`--fail=closed`, COORDINATOR_FAIL=closed). Bad
 * input (not JSON, another event or tool, no path, a path outside the repository): a message on stderr and exit 1,
 * Claude Code's non-blocking error — the edit proceeds and the user sees why the hook did nothing.
 */
import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { AgentCoordinationClient, CoordinatorError } from "../../client/src/index.ts";
import { BridgeConfigError, explainRefusal, readConnection, type Env } from "./config.ts";
import { covering, locksFor } from "./locks.ts";
import { findSession, projectDirOf, projectRoot } from "./session-file.ts";

export const EDIT_TOOLS = ["Edit", "MultiEdit", "Write", "NotebookEdit"] as const;

export interface HookResult {
  /** 0: allow or deny (decided), 1: non-blocking error (Claude Code shows stderr to the user). */
  exitCode: 0 | 1;
  stdout: string;
  stderr: string;
}

interface HookEvent {
  session_id?: string;
  cwd?: string;
  hook_event_name?: string;
  tool_name?: string;
  tool_input?: Record<string, unknown>;
}

type Mode = "acquire" | "check";
type Fail = "open" | "closed";

/** Bad input or setup: reported on stderr, the edit proceeds. */
class HookInputError extends Error {}

const PREFIX = "Agent Coordinator";

function deny(reason: string): HookResult {
  const out = {
    hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason },
  };
  return { exitCode: 0, stdout: `${JSON.stringify(out)}\n`, stderr: "" };
}

function allow(warning?: string): HookResult {
  // No permissionDecision: "allow" would skip Claude Code's permission prompt, which is not ours to skip.
  return {
    exitCode: 0,
    stdout: warning ? `${JSON.stringify({ systemMessage: `${PREFIX}: ${warning}` })}\n` : "",
    stderr: "",
  };
}

function option(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

function settings(argv: string[], env: Env): { mode: Mode; fail: Fail; repo: string; timeoutMs: number } {
  const mode = option(argv, "mode") ?? env.COORDINATOR_HOOK_MODE?.trim() ?? "acquire";
  if (mode !== "acquire" && mode !== "check") {
    throw new HookInputError(`mode must be acquire or check (--mode or COORDINATOR_HOOK_MODE), got ${mode}`);
  }
  const fail = option(argv, "fail") ?? env.COORDINATOR_FAIL?.trim() ?? "open";
  if (fail !== "open" && fail !== "closed") {
    throw new HookInputError(`fail must be open or closed (--fail or COORDINATOR_FAIL), got ${fail}`);
  }
  const timeout = Number(env.COORDINATOR_HOOK_TIMEOUT_MS ?? 5000);
  return { mode, fail, repo: env.COORDINATOR_REPO?.trim() || "default", timeoutMs: timeout > 0 ? timeout : 5000 };
}

/** The edited file's path relative to the repository root (git work tree of the event's cwd, else the cwd). */
export function repoPath(event: HookEvent): { root: string; path: string } {
  const input = event.tool_input;
  if (!input || typeof input !== "object") throw new HookInputError("tool_input is missing from the hook event");
  const raw = event.tool_name === "NotebookEdit" ? (input.notebook_path ?? input.file_path) : input.file_path;
  if (typeof raw !== "string" || raw.trim() === "") {
    const field = event.tool_name === "NotebookEdit" ? "notebook_path" : "file_path";
    throw new HookInputError(`tool_input.${field} is missing: nothing to lock for ${event.tool_name}`);
  }
  const cwd = typeof event.cwd === "string" && event.cwd ? event.cwd : process.cwd();
  const root = projectRoot(cwd);
  // The file may not exist yet (Write creates it): resolve its folder's real path where it exists.
  const abs = resolve(cwd, raw);
  const rel = relative(root, realParent(abs));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new HookInputError(`${abs} is outside the repository ${root}: not locked`);
  }
  return { root, path: rel.split(sep).join("/") };
}

/** `abs` with its deepest existing ancestor's symlinks resolved (so /tmp and /private/tmp, or a linked repo, agree). */
function realParent(abs: string): string {
  const rest: string[] = [];
  for (let cur = abs; ; ) {
    try {
      return resolve(realpathSync(cur), ...rest);
    } catch {
      const up = resolve(cur, "..");
      if (up === cur) return abs;
      rest.unshift(cur.slice(up.length).replace(/^[\\/]/, ""));
      cur = up;
    }
  }
}

export async function runHook(argv: string[], env: Env, stdin: string): Promise<HookResult> {
  let event: HookEvent;
  let opts: ReturnType<typeof settings>;
  let target: { root: string; path: string };
  try {
    opts = settings(argv, env);
    try {
      event = JSON.parse(stdin) as HookEvent;
    } catch (err) {
      throw new HookInputError(`stdin is not a JSON hook event (${(err as Error).message})`);
    }
    if (!event || typeof event !== "object") throw new HookInputError("stdin is not a JSON hook event object");
    if (event.hook_event_name !== "PreToolUse") {
      throw new HookInputError(`handles PreToolUse events only, got ${String(event.hook_event_name)}`);
    }
    if (!EDIT_TOOLS.includes(event.tool_name as (typeof EDIT_TOOLS)[number])) {
      throw new HookInputError(
        `handles ${EDIT_TOOLS.join(", ")} only, got ${String(event.tool_name)}: set the hook's matcher to "${EDIT_TOOLS.join("|")}"`,
      );
    }
    target = repoPath(event);
  } catch (err) {
    if (err instanceof HookInputError) return { exitCode: 1, stdout: "", stderr: `mcp-bridge hook: ${err.message}\n` };
    throw err;
  }

  const failed = (why: string): HookResult =>
    opts.fail === "closed"
      ? deny(
          `${PREFIX} could not check the lock on ${target.path}: ${why} The hook fails closed (COORDINATOR_FAIL=closed): fix the coordinator connection, then retry.`,
        )
      : allow(`lock on ${target.path} not checked: ${why}`);

  let conn: { url: string; apiKey: string };
  try {
    conn = readConnection(env);
  } catch (err) {
    if (!(err instanceof BridgeConfigError)) throw err;
    if (opts.fail === "closed") return failed(err.message);
    return { exitCode: 1, stdout: "", stderr: `mcp-bridge hook: ${err.message}\n` };
  }

  const agentId = env.AGENT_ID?.trim() || null;
  const warnings: string[] = [];
  const explicitSession = env.SESSION_ID?.trim() || null;
  const found = explicitSession
    ? null
    : await findSession(
        env,
        { projectRoot: projectDirOf(env, event.cwd || process.cwd()), coordinatorUrl: conn.url, agentId },
        (w) => warnings.push(w),
      );
  const sessionId = explicitSession ?? found?.record.session_id ?? null;
  const client = new AgentCoordinationClient({
    baseUrl: conn.url,
    apiKey: conn.apiKey,
    agentId: agentId ?? found?.record.agent_id,
    agentType: env.AGENT_TYPE?.trim() || found?.record.agent_type || "claude_code",
    sessionId: sessionId ?? undefined,
    timeoutMs: opts.timeoutMs,
    retry: false,
  });

  let mode = opts.mode;
  if (mode === "acquire" && !sessionId) {
    // A lock outside any session would outlive the agent by its whole TTL: check only, and say why.
    mode = "check";
    warnings.push(
      "no running mcp-bridge found for this project (is the coordinator MCP server configured?), so no lock was taken; checked only",
    );
  }

  try {
    if (mode === "acquire") {
      await client.acquireLock({
        repo: opts.repo,
        file_path: target.path,
        reason: `editing (Claude Code ${event.tool_name})`,
      });
      return allow(warnings.length ? warnings.join("; ") : undefined);
    }
    const locks = covering(await locksFor(client, opts.repo, [target.path]), target.path);
    const me = client.headers["X-Agent-Id"] ?? (await client.whoami()).agent_id;
    const theirs = locks.filter((l) => l.agent_id !== me);
    if (theirs.length > 0) {
      const held = theirs
        .map((l) => `${l.key} by ${l.agent_id} until ${clock(l.expires_at)}${l.reason ? ` (${l.reason})` : ""}`)
        .join("; ");
      return deny(
        `${PREFIX}: Locked: ${held}. ${target.path} is another agent's to edit now: work on something else, or wait for the lock (acquire_lock with wait_seconds) and retry.`,
      );
    }
    return allow(warnings.length ? warnings.join("; ") : undefined);
  } catch (err) {
    if (err instanceof CoordinatorError && err.code === "lock_conflict") {
      return deny(`${PREFIX}: ${err.message} The edit to ${target.path} was not made.`);
    }
    // Unreachable, or refused for another reason (bad key, bad path): the fail mode decides, the message says why.
    return failed(explainRefusal(err, { url: conn.url, agentId }));
  }
}

/** `2026-05-01T14:05:03.123Z` → `14:05:03Z`, the form lock refusals use. */
function clock(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]}Z` : iso;
}

/** The `.claude/settings.json` snippet that runs this hook before every edit. */
export function settingsSnippet(): string {
  return `${JSON.stringify(
    {
      hooks: {
        PreToolUse: [
          {
            matcher: EDIT_TOOLS.join("|"),
            hooks: [
              { type: "command", command: '"$CLAUDE_PROJECT_DIR"/node_modules/.bin/mcp-bridge hook', timeout: 15 },
            ],
          },
        ],
      },
    },
    null,
    2,
  )}\n`;
}

async function readStdin(limit = 4 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > limit) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function hookMain(argv: string[]): Promise<number> {
  if (argv.includes("--print-config")) {
    process.stdout.write(settingsSnippet());
    return 0;
  }
  const result = await runHook(argv, process.env, await readStdin()).catch(
    (err: Error): HookResult => ({ exitCode: 1, stdout: "", stderr: `mcp-bridge hook: failed: ${err.message}\n` }),
  );
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode;
}
