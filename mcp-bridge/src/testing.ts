/**
 * Test support for the bridge's suites: the bundle built as it ships (into a temporary folder, once per test file),
 * child processes run to completion, and throwaway git repositories. Not part of the bundle.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBridge } from "../scripts/build.ts";

let built: Promise<string> | undefined;
/** Temporary folders this test file made; `removeTemporary` deletes them (call it in afterAll). */
const made: string[] = [];

function temporary(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export function removeTemporary(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  built = undefined;
}

/** The path of `mcp-bridge.js` built from the current sources (what `npm pack` ships in `dist/`). */
export function builtBridge(): Promise<string> {
  built ??= (async () => {
    const out = join(temporary("mcp-bridge-build-"), "dist");
    await buildBridge(out);
    return join(out, "mcp-bridge.js");
  })();
  return built;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `stdin`. */
export function run(
  command: string,
  args: string[],
  options: { env: Record<string, string>; stdin?: string; cwd?: string },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    // A command that does not read its stdin (git) may exit before the write lands.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");
  });
}

/** A fresh git repository (one commit) in a temporary folder; its real path. */
export function gitRepo(prefix = "coord-repo-"): string {
  const dir = temporary(prefix);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("config", "user.email", "agent@example.com");
  git("config", "user.name", "Agent");
  git("config", "commit.gpgsign", "false");
  git("commit", "-q", "--allow-empty", "-m", "initial");
  return dir;
}

/** A private folder for session files (XDG_RUNTIME_DIR) and HOME, as a user's would be. */
export function privateDir(prefix = "coord-home-"): string {
  return temporary(prefix);
}

/** Polls until `check` is true or the ceiling passes (generous: the machine may be loaded). */
export async function eventually(check: () => Promise<boolean> | boolean, ceilingMs = 15_000): Promise<boolean> {
  const until = Date.now() + ceilingMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
