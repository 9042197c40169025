/**
 * A private Postgres cluster in a temporary directory, for tests that must crash the server (`pg_ctl stop -m
 * immediate`: no checkpoint, recovery from WAL on the next start) — which the shared server must never be.
 * Uses the server binaries of the machine's Postgres (pg_config --bindir); Postgres refuses to run as root, so as
 * root the cluster runs as the `postgres` user.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function bindir(): string {
  return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
}

export interface PrivateCluster {
  url: string;
  /** Kills the server the way a crash would: no shutdown checkpoint. */
  crash(): void;
  /** Stops the server cleanly: `fast` disconnects clients and checkpoints. */
  stop(mode?: "fast" | "immediate"): void;
  /** Starts the server; returns once it accepts connections (`pg_ctl -w`). */
  start(): void;
  destroy(): void;
}

export function createPrivateCluster(): PrivateCluster {
  const bin = bindir();
  const dir = mkdtempSync(join(tmpdir(), "coord-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: "pipe" });
  };
  if (asRoot) {
    chmodSync(dir, 0o755);
    const pw = execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim();
    const gr = execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim();
    chownSync(dir, Number(pw), Number(gr));
  }
  const port = 25000 + Math.floor(Math.random() * 5000);
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=on -c synchronous_commit=on`;
  const start = () => run("pg_ctl", ["-D", data, "-o", opts, "-w", "-l", join(dir, "log"), "start"]);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: () => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
    stop: (mode = "fast") => run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]),
    start,
    destroy() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
