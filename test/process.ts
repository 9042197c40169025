/**
 * The Node host as a child process (`scripts/start.ts`, what `npm start` runs), for tests that need a real server
 * process: its own memory, its own event loop, signals. Readiness is GET /health answering 200, waited for with a
 * generous ceiling: a loaded machine may take long to start it, and no test asserts how long.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A free-looking port for a child server (random in a range the tests do not otherwise use). */
export function randomPort(): number {
  return 18000 + Math.floor(Math.random() * 4000);
}

/** Starts `scripts/start.ts` with `env` on top of this process's environment (`undefined` removes a variable). */
export async function startServer(
  env: Record<string, string | undefined>,
  { readyWithinMs = 180_000 }: { readyWithinMs?: number } = {},
): Promise<ServerProcess> {
  const port = Number(env.PORT ?? randomPort());
  const merged: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "warn", ...env, PORT: String(port) };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: merged as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).status === 200) break;
    } catch {
      /* starting */
    }
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`no /health 200 within ${readyWithinMs / 1000} s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    child,
    output: () => out,
    stop(signal = "SIGTERM") {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

/** A process's resident set size in bytes (Linux: /proc/PID/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}
