/**
 * The benchmark harness. Each capability adds a module in this folder exporting `bench(h)`, which returns rows;
 * `scripts/bench.ts` runs them all and prints one table. Servers run as child processes (the real Node host,
 * `scripts/start.ts`), so the load generator and the server do not share an event loop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { createPostgresDb } from "../../functions-src/db/postgres.ts";
import { migrate } from "../host/migrate.ts";
import type { Db } from "../../functions-src/db/port.ts";

export const BENCH_KEY = "bench-agent-key-0123456789";
export const BENCH_ADMIN_KEY = "bench-admin-key-0123456789";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BenchRow {
  /** What is measured, e.g. "lock acquire+release". */
  name: string;
  /** http | mcp | bridge | sql */
  via: string;
  db: "postgres" | "pglite" | "-";
  concurrency: number;
  ops: number;
  /** Operations per second. */
  throughput: number;
  p50ms: number;
  p95ms: number;
  p99ms: number;
  /** Throughput relative to the raw SQL row of the same operation, when there is one. */
  ratio?: number;
  /**
   * Throughput relative to a reference measured in the same run (scripts/bench/references.ts): the bare Hono echo's
   * request rate at the same concurrency, or graphile-worker's job rate. The note names which.
   */
  vsRef?: number;
  note?: string;
}

export interface LoadResult {
  ops: number;
  seconds: number;
  throughput: number;
  p50ms: number;
  p99ms: number;
  p95ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Closed-loop load: `concurrency` workers each call `fn(worker, i)` back to back until `durationMs` has passed
 * (or `maxOps` calls in all). Latency of every call is recorded.
 */
export async function runLoad(
  concurrency: number,
  fn: (worker: number, i: number) => Promise<unknown>,
  {
    durationMs = 3000,
    maxOps = Infinity,
    warmupMs = 300,
  }: { durationMs?: number; maxOps?: number; warmupMs?: number } = {},
): Promise<LoadResult> {
  if (warmupMs > 0) {
    const until = performance.now() + warmupMs;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        let i = 0;
        while (performance.now() < until) await fn(w, -++i);
      }),
    );
  }
  const latencies: number[] = [];
  let issued = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end && issued < maxOps) {
        const i = issued++;
        const t = performance.now();
        await fn(w, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50ms: percentile(latencies, 50),
    p95ms: percentile(latencies, 95),
    p99ms: percentile(latencies, 99),
  };
}

/** Turns a load result into a table row. */
export function row(
  name: string,
  via: string,
  db: BenchRow["db"],
  concurrency: number,
  r: LoadResult,
  extra: Partial<BenchRow> = {},
): BenchRow {
  return {
    name,
    via,
    db,
    concurrency,
    ops: r.ops,
    throughput: r.throughput,
    p50ms: r.p50ms,
    p95ms: r.p95ms,
    p99ms: r.p99ms,
    ...extra,
  };
}

/** A keep-alive HTTP client with little overhead (node:http, not fetch), so the client is not the bottleneck. */
export function httpClient(baseUrl: string, maxSockets = 256) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const url = new URL(baseUrl);
  return {
    async call(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<{ status: number; body: any }> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: {
              ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let parsed: unknown = text;
              try {
                parsed = text ? JSON.parse(text) : null;
              } catch {
                /* not JSON */
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** Identity headers for bench agent `agentId` (agent-scope key). */
export function benchHeaders(agentId: string, sessionId?: string): Record<string, string> {
  return {
    authorization: `Bearer ${BENCH_KEY}`,
    "x-agent-id": agentId,
    ...(sessionId ? { "x-session-id": sessionId } : {}),
  };
}

export interface BenchServer {
  url: string;
  /** The server process, for its CPU time (`cpuSeconds`). */
  pid: number;
  kind: "postgres" | "pglite";
  /** Postgres only: the URL of the database behind the server, for raw SQL comparisons and setup. */
  databaseUrl?: string;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("server did not become healthy");
}

let nextPort = 18800 + Math.floor(Math.random() * 500);

/** Creates a fresh, migrated Postgres database for a bench run; `drop` removes it. */
export async function benchDatabase(adminUrl: string): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const name = `coord_bench_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const db = createPostgresDb(u.toString(), { max: 64 });
  await migrate(db);
  return {
    url: u.toString(),
    db,
    async drop() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Starts the Node host (`scripts/start.ts`) as a child process on Postgres (a database URL) or on a fresh
 * PGlite data directory, and waits for /health.
 */
export async function startServer(
  kind: "postgres" | "pglite",
  databaseUrl?: string,
  env: Record<string, string> = {},
): Promise<BenchServer> {
  const port = nextPort++;
  const dataDir = kind === "pglite" ? await mkdtemp(join(tmpdir(), "coord-bench-")) : undefined;
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts/start.ts")], {
    cwd: ROOT,
    // The server's start-up lines would drown the table: keep them, and show them only if it fails to start.
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: "error",
      COORDINATION_API_KEYS: BENCH_KEY,
      COORDINATION_ADMIN_KEYS: BENCH_ADMIN_KEY,
      DATABASE_URL: kind === "postgres" ? databaseUrl! : "",
      DATABASE_POOL_SIZE: "32",
      // A benchmark is one agent flooding on purpose: the per-agent caps would measure themselves.
      COORDINATOR_REQUEST_RATE: "0",
      COORDINATOR_MEMORY_RATE: "0",
      COORDINATOR_MAX_HELD_LOCKS: "0",
      COORDINATOR_MAX_PENDING_TASKS: "0",
      ...(dataDir ? { COORDINATOR_DATA_DIR: dataDir } : {}),
      ...env,
    },
  });
  let output = "";
  child.stderr!.on("data", (d) => {
    output = (output + d).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child).catch((err: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${err.message}:\n${output}`);
  });
  return {
    url,
    pid: child.pid!,
    kind,
    databaseUrl,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at the last ")"; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Everything a capability's bench module is handed. */
export interface BenchContext {
  /** The admin URL of the Postgres server (DATABASE_URL), or undefined to bench PGlite only. */
  adminUrl?: string;
  /** Scale factor: 1 for the full run, smaller for `--quick`. */
  scale: number;
  log(line: string): void;
}

export function printTable(rows: BenchRow[]): string {
  const head = [
    "operation",
    "via",
    "db",
    "conc",
    "ops",
    "ops/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "vs SQL",
    "vs ref",
    "note",
  ];
  const lines = rows.map((r) => [
    r.name,
    r.via,
    r.db,
    String(r.concurrency),
    String(r.ops),
    Number.isNaN(r.throughput) ? "-" : r.throughput.toFixed(0),
    ...[r.p50ms, r.p95ms, r.p99ms].map((ms) => (Number.isNaN(ms) ? "-" : ms.toFixed(2))),
    r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(0)}%`,
    r.vsRef === undefined ? "" : `${r.vsRef.toFixed(2)}×`,
    r.note ?? "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [fmt(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(fmt)].join("\n");
}
