/**
 * `mcp-bridge guard`: git hooks that check locks where agents without edit hooks (Codex CLI, Aider) and people commit.
 *
 *   guard install [--dir PATH] [--require] [--fail=closed]   installs pre-commit and commit-msg (keeping existing ones)
 *   guard uninstall [--dir PATH]                              removes them and puts the previous hooks back
 *   guard pre-commit [--require] [--fail=open|closed]         (run by git) refuses staged paths another agent locked
 *   guard commit-msg FILE [--fail=open|closed]                (run by git) appends the fencing-token trailers
 *
 * Trailers (docs/LOCKS.md, "Fenced commits"):
 *   Coordinator-Lock-Repo: <repo>
 *   Coordinator-Lock-Agent: <agent id>
 *   Coordinator-Lock-Tokens: <path>=<token>, <path>=<token>
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { AgentCoordinationClient } from "../../client/src/index.ts";
import { BridgeConfigError, explainRefusal, readConnection, type Env } from "./config.ts";
import { covering, locksFor } from "./locks.ts";
import { findSession } from "./session-file.ts";

const MARKER = "agent-coordinator guard";
const HOOKS = ["pre-commit", "commit-msg"] as const;
/** Where an existing hook is kept, and chained from ours. */
const KEPT_SUFFIX = ".pre-coordinator";

export const TRAILER_REPO = "Coordinator-Lock-Repo";
export const TRAILER_AGENT = "Coordinator-Lock-Agent";
export const TRAILER_TOKENS = "Coordinator-Lock-Tokens";

class GuardError extends Error {}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function flag(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1] && !argv[i + 1]!.startsWith("--") ? argv[i + 1] : "";
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The hook script: runs the hook it replaced first (same arguments), then ours with this node and this bundle. */
function hookScript(name: string, bin: string, extraArgs: string[]): string {
  return `#!/bin/sh
# ${MARKER}: installed by \`mcp-bridge guard install\`; \`mcp-bridge guard uninstall\` puts back the hook it replaced
# (kept as ${name}${KEPT_SUFFIX}, which runs first).
kept="$(dirname "$0")/${name}${KEPT_SUFFIX}"
if [ -x "$kept" ]; then "$kept" "$@" || exit $?; fi
node=${shellQuote(process.execPath)}
[ -x "$node" ] || node=node
bin=${shellQuote(bin)}
if [ ! -f "$bin" ]; then
  echo "mcp-bridge guard: $bin is gone; run \\\`mcp-bridge guard install\\\` again (or uninstall). Not checked." >&2
  exit 0
fi
exec "$node" "$bin" guard ${name}${extraArgs.map((a) => ` ${shellQuote(a)}`).join("")} "$@"
`;
}

function hooksDir(dir: string): string {
  // --git-path honours core.hooksPath and linked worktrees.
  const path = git(dir, ["rev-parse", "--git-path", "hooks"]);
  return isAbsolute(path) ? path : resolve(dir, path);
}

export function install(argv: string[]): string[] {
  const dir = resolve(flag(argv, "dir") || process.cwd());
  const hooks = hooksDir(dir);
  // The script git runs: this very command (its bin, or the bundle it was started as).
  const bin = realpathSync(process.argv[1]!);
  const extra: string[] = [];
  if (argv.includes("--require")) extra.push("--require");
  const fail = flag(argv, "fail");
  if (fail) {
    if (fail !== "open" && fail !== "closed") throw new GuardError(`--fail must be open or closed, got ${fail}`);
    extra.push(`--fail=${fail}`);
  }
  const done: string[] = [];
  mkdirSync(hooks, { recursive: true });
  for (const name of HOOKS) {
    const path = join(hooks, name);
    if (existsSync(path) && !readFileSync(path, "utf8").includes(MARKER)) {
      if (existsSync(path + KEPT_SUFFIX)) {
        throw new GuardError(
          `${path} exists and so does ${path + KEPT_SUFFIX}: move one of them away, then install again`,
        );
      }
      renameSync(path, path + KEPT_SUFFIX);
      done.push(`kept the existing ${name} as ${name}${KEPT_SUFFIX} (runs first)`);
    }
    writeFileSync(path, hookScript(name, bin, name === "commit-msg" ? extra.filter((a) => a !== "--require") : extra));
    chmodSync(path, 0o755);
    done.push(`installed ${path}`);
  }
  return done;
}

export function uninstall(argv: string[]): string[] {
  const hooks = hooksDir(resolve(flag(argv, "dir") || process.cwd()));
  const done: string[] = [];
  for (const name of HOOKS) {
    const path = join(hooks, name);
    if (!existsSync(path) || !readFileSync(path, "utf8").includes(MARKER)) continue;
    rmSync(path);
    if (existsSync(path + KEPT_SUFFIX)) {
      renameSync(path + KEPT_SUFFIX, path);
      done.push(`restored the previous ${name}`);
    } else done.push(`removed ${path}`);
  }
  return done;
}

/** Staged paths (added, modified, deleted; renames as delete + add), relative to the work tree root. */
export function stagedPaths(root: string): string[] {
  const out = execFileSync("git", ["diff", "--cached", "--name-only", "--no-renames", "-z"], {
    cwd: root,
    encoding: "utf8",
  });
  return out.split("\0").filter(Boolean);
}

interface Context {
  root: string;
  repo: string;
  fail: "open" | "closed";
  client: AgentCoordinationClient;
  me: string;
}

async function context(argv: string[], env: Env): Promise<Context> {
  const root = git(process.cwd(), ["rev-parse", "--show-toplevel"]);
  const fail = (flag(argv, "fail") || env.COORDINATOR_FAIL?.trim() || "open") as "open" | "closed";
  if (fail !== "open" && fail !== "closed") throw new GuardError(`fail must be open or closed, got ${fail}`);
  const conn = readConnection(env);
  const agentId = env.AGENT_ID?.trim() || null;
  const found = await findSession(env, { projectRoot: root, coordinatorUrl: conn.url, agentId });
  const client = new AgentCoordinationClient({
    baseUrl: conn.url,
    apiKey: conn.apiKey,
    agentId: agentId ?? found?.record.agent_id,
    agentType: env.AGENT_TYPE?.trim() || found?.record.agent_type || undefined,
    timeoutMs: 10_000,
    retry: { retries: 1 },
  });
  const me = client.headers["X-Agent-Id"] ?? (await client.whoami()).agent_id;
  return { root, repo: env.COORDINATOR_REPO?.trim() || "default", fail, client, me };
}

/** The staged paths this agent holds, with the token of the lock covering each. */
export async function heldTokens(ctx: Context, paths: string[]): Promise<Array<{ path: string; token: number }>> {
  const locks = await locksFor(ctx.client, ctx.repo, paths);
  const held: Array<{ path: string; token: number }> = [];
  for (const path of paths) {
    const mine = covering(locks, path).filter((l) => l.agent_id === ctx.me);
    // The most specific lock (the longest key) is the one the agent took for this path.
    mine.sort((a, b) => b.key.length - a.key.length);
    if (mine[0]) held.push({ path, token: mine[0].token });
  }
  return held.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Percent-encodes what would break the trailer's `path=token, …` syntax, and nothing else: `%`, `,`, `=`, space and
 * the other ASCII controls (0x00–0x20, 0x7F) become `%XX` (uppercase hex).
 */
export function encodeTrailerPath(path: string): string {
  let out = "";
  for (const ch of path) {
    const code = ch.codePointAt(0)!;
    const special = code <= 0x20 || code === 0x7f || ch === "%" || ch === "," || ch === "=";
    out += special ? `%${code.toString(16).toUpperCase().padStart(2, "0")}` : ch;
  }
  return out;
}

export function tokensTrailer(held: Array<{ path: string; token: number }>): string {
  return held.map((h) => `${encodeTrailerPath(h.path)}=${h.token}`).join(", ");
}

async function preCommit(argv: string[], env: Env): Promise<number> {
  const ctx = await context(argv, env);
  const requireOwn = argv.includes("--require") || env.COORDINATOR_GUARD_MODE?.trim() === "require";
  const paths = stagedPaths(ctx.root);
  if (paths.length === 0) return 0;
  const locks = await locksFor(ctx.client, ctx.repo, paths);
  const problems: string[] = [];
  for (const path of paths) {
    const over = covering(locks, path);
    const theirs = over.filter((l) => l.agent_id !== ctx.me);
    if (theirs.length > 0) {
      const l = theirs[0]!;
      problems.push(
        `${path}: locked by ${l.agent_id}${l.key !== path ? ` (via ${l.key})` : ""} until ${l.expires_at}${l.reason ? ` — ${l.reason}` : ""}`,
      );
    } else if (requireOwn && over.length === 0) {
      problems.push(`${path}: not locked by you (${ctx.me}); acquire_lock it first (require mode)`);
    }
  }
  if (problems.length === 0) return 0;
  process.stderr.write(
    `mcp-bridge guard: commit refused (repo ${ctx.repo}):\n${problems.map((p) => `  ${p}`).join("\n")}\n` +
      "Unstage those paths, or wait until their locks are released. (git commit --no-verify skips this check.)\n",
  );
  return 1;
}

/** Rewrites the message file: our old trailers out, fresh ones in (via git interpret-trailers, which knows the format). */
async function commitMsg(argv: string[], env: Env): Promise<number> {
  const file = argv.find((a) => !a.startsWith("--"));
  if (!file) throw new GuardError("commit-msg needs the message file (git passes it)");
  const ctx = await context(argv, env);
  const held = await heldTokens(ctx, stagedPaths(ctx.root));
  const ours = new RegExp(`^(${TRAILER_REPO}|${TRAILER_AGENT}|${TRAILER_TOKENS})\\s*:`, "i");
  const text = readFileSync(file, "utf8");
  const kept = text
    .split("\n")
    .filter((line) => !ours.test(line))
    .join("\n");
  if (kept !== text) writeFileSync(file, kept);
  if (held.length === 0) return 0;
  const r = spawnSync(
    "git",
    [
      "interpret-trailers",
      "--in-place",
      "--trailer",
      `${TRAILER_REPO}: ${ctx.repo}`,
      "--trailer",
      `${TRAILER_AGENT}: ${ctx.me}`,
      "--trailer",
      `${TRAILER_TOKENS}: ${tokensTrailer(held)}`,
      file,
    ],
    { cwd: ctx.root, encoding: "utf8" },
  );
  if (r.status !== 0) throw new GuardError(`git interpret-trailers failed: ${r.stderr.trim()}`);
  return 0;
}

export async function guardMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const say = (lines: string[]) => process.stdout.write(lines.map((l) => `mcp-bridge guard: ${l}\n`).join(""));
  try {
    switch (sub) {
      case "install":
        say(install(rest));
        return 0;
      case "uninstall": {
        const done = uninstall(rest);
        say(done.length ? done : ["no guard hooks installed here"]);
        return 0;
      }
      case "pre-commit":
        return await preCommit(rest, process.env);
      case "commit-msg":
        return await commitMsg(rest, process.env);
      default:
        process.stderr.write(
          "usage: mcp-bridge guard install [--dir PATH] [--require] [--fail=open|closed] | uninstall [--dir PATH]\n",
        );
        return 2;
    }
  } catch (err) {
    const hook = sub === "pre-commit" || sub === "commit-msg";
    const fail = (flag(rest, "fail") || process.env.COORDINATOR_FAIL?.trim() || "open") === "closed";
    const message =
      err instanceof GuardError || err instanceof BridgeConfigError
        ? err.message
        : explainRefusal(err, { url: process.env.COORDINATOR_URL ?? "", agentId: process.env.AGENT_ID ?? null });
    if (hook && !fail) {
      process.stderr.write(
        `mcp-bridge guard: locks not checked (${message}); committing anyway (COORDINATOR_FAIL=open)\n`,
      );
      return 0;
    }
    process.stderr.write(`mcp-bridge guard: ${message}\n`);
    return 1;
  }
}
