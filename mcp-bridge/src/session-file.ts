/**
 * Session files: how short-lived helpers (the Claude Code hook, the git guard) find the session of the agent's running
 * bridge, so that a lock the hook takes lives and dies with that session (heartbeats renew it; the bridge's exit
 * releases it).
 *
 * Each bridge writes one file, `<state dir>/sessions/<project key>-<pid>.json`, mode 0600 in a 0700 directory, where
 * the project key is a hash of the project root (the git work tree root of CLAUDE_PROJECT_DIR or the bridge's working
 * directory). It holds the session id, the agent id and the coordinator URL — never the API key. The bridge touches
 * the file at every heartbeat and removes it when it ends. A reader accepts a file only when its process is alive and
 * its last touch is recent (three heartbeat intervals plus a margin), so files of crashed bridges (or of a pid the OS
 * reused) are ignored; files of dead processes are removed by the next reader.
 *
 * State directory: `$XDG_RUNTIME_DIR/agent-coordinator` when set (a per-user tmpfs, cleared at logout), else
 * `$XDG_STATE_HOME/agent-coordinator` (default `~/.local/state/agent-coordinator`).
 */
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Env } from "./config.ts";

export interface SessionRecord {
  version: 1;
  pid: number;
  session_id: string;
  /** The agent id the coordinator resolved for the bridge's key (AGENT_ID, or the key's bound agent). */
  agent_id: string;
  agent_type: string | null;
  coordinator_url: string;
  project_root: string;
  heartbeat_ms: number;
  started_at: string;
}

/** Where session files live. */
export function sessionsDir(env: Env): string {
  const runtime = env.XDG_RUNTIME_DIR?.trim();
  const state = env.XDG_STATE_HOME?.trim() || join(env.HOME?.trim() || homedir(), ".local", "state");
  return join(runtime || state, "agent-coordinator", "sessions");
}

/** The git work tree root containing `dir` (a `.git` directory or file), else `dir` itself; symlinks resolved. */
export function projectRoot(dir: string): string {
  let start: string;
  try {
    start = realpathSync(resolve(dir));
  } catch {
    start = resolve(dir);
  }
  for (let cur = start; ; ) {
    if (existsSync(join(cur, ".git"))) return cur;
    const up = dirname(cur);
    if (up === cur) return start;
    cur = up;
  }
}

/** The project folder a bridge or hook works for: Claude Code's project dir when it set one, else the working dir. */
export function projectDirOf(env: Env, cwd: string): string {
  return projectRoot(env.CLAUDE_PROJECT_DIR?.trim() || cwd);
}

const projectKey = (root: string) => createHash("sha256").update(root).digest("hex").slice(0, 16);

/**
 * Refuses a directory another user could write to: a session file there could hand the hook a forged session id.
 * Returns a reason, or null when the directory is safe (or the platform has no POSIX owners).
 */
async function unsafeDir(dir: string): Promise<string | null> {
  if (typeof process.getuid !== "function") return null;
  const st = await lstat(dir);
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== process.getuid()) return `${dir} belongs to another user`;
  if ((st.mode & 0o022) !== 0) return `${dir} is writable by other users`;
  return null;
}

/** Writes the bridge's session file (atomically, 0600) and returns its path. */
export async function writeSessionFile(env: Env, record: SessionRecord): Promise<string> {
  const dir = sessionsDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const problem = await unsafeDir(dir);
  if (problem) throw new Error(`not writing a session file: ${problem}`);
  const file = join(dir, `${projectKey(record.project_root)}-${record.pid}.json`);
  const tmp = `${file}.${process.hrtime.bigint()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** Marks the session file fresh (at each heartbeat). */
export async function touchSessionFile(file: string): Promise<void> {
  const now = new Date();
  await utimes(file, now, now);
}

export async function removeSessionFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive, though not ours to trust; the file's owner check covers it.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface FoundSession {
  record: SessionRecord;
  file: string;
}

/**
 * The live bridge session for a project (and coordinator, and agent when known), newest first; null when there is
 * none. `warn` receives why a directory or file was not trusted.
 */
export async function findSession(
  env: Env,
  want: { projectRoot: string; coordinatorUrl: string; agentId?: string | null },
  warn: (msg: string) => void = () => {},
): Promise<FoundSession | null> {
  const dir = sessionsDir(env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const problem = await unsafeDir(dir).catch((err: Error) => err.message);
  if (problem) {
    warn(`ignoring session files: ${problem}`);
    return null;
  }
  const prefix = `${projectKey(want.projectRoot)}-`;
  const found: Array<FoundSession & { mtime: number }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".json")) continue;
    const file = join(dir, name);
    try {
      const st = await lstat(file);
      if (!st.isFile()) continue;
      if (typeof process.getuid === "function" && st.uid !== process.getuid()) continue;
      const record = JSON.parse(await readFile(file, "utf8")) as SessionRecord;
      if (record.version !== 1 || record.project_root !== want.projectRoot) continue;
      if (!processAlive(record.pid)) {
        await rm(file, { force: true });
        continue;
      }
      // A live pid with a stale file: the bridge hangs, or the OS gave a dead bridge's pid to another process.
      if (Date.now() - st.mtimeMs > record.heartbeat_ms * 3 + 10_000) continue;
      if (record.coordinator_url !== want.coordinatorUrl) continue;
      if (want.agentId && record.agent_id !== want.agentId) continue;
      found.push({ record, file, mtime: Date.parse(record.started_at) });
    } catch {
      // Half-written or foreign file: not a session we can use.
    }
  }
  found.sort((a, b) => b.mtime - a.mtime);
  const best = found[0];
  return best ? { record: best.record, file: best.file } : null;
}
