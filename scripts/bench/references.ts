/**
 * Reference rows, measured in the same run as everything else so that ratios compare like with like:
 *   - a bare Hono echo on @hono/node-server (JSON in, JSON out), driven by the same closed-loop HTTP client the
 *     coordinator's rows use: the most requests per second this stack serves before doing any work;
 *   - graphile-worker 0.18 draining no-op jobs on the same Postgres, unbatched and with its own batching (a local
 *     queue of 500 and batched completions): what a mature Postgres job queue does on this machine.
 * graphile-worker needs Node 22, so the bench installs both (pinned) into `.bench/` once and runs it there.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { type BenchContext, type BenchRow, httpClient, row, runLoad } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CACHE = join(ROOT, ".bench");
const PINNED = { "graphile-worker": "0.18.0", node: "22.23.3" };
export const ECHO_LEVELS = [1, 8, 32, 64];
const GRAPHILE_CONCURRENCY = 24;

/** Reference figures other modules compare with (filled by `bench` below, which runs first). */
export const references: {
  /** Echo requests per second by concurrency. */
  echo: Map<number, number>;
  graphile?: { unbatched: number; batched: number };
} = { echo: new Map() };

async function echoRows(ctx: BenchContext): Promise<BenchRow[]> {
  const port = 19300 + Math.floor(Math.random() * 500);
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts/bench/echo-server.ts")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d) => String(d).includes("echo ready") && resolve());
    child.once("exit", (code) => reject(new Error(`echo server exited ${code}`)));
  });
  const client = httpClient(`http://127.0.0.1:${port}`);
  const rows: BenchRow[] = [];
  try {
    for (const c of ECHO_LEVELS) {
      const r = await runLoad(
        c,
        async (w, i) => {
          const res = await client.call("POST", "/echo", { agent: w, i });
          if (res.status !== 200) throw new Error(`echo answered ${res.status}`);
        },
        { durationMs: 3000 * ctx.scale },
      );
      references.echo.set(c, r.throughput);
      rows.push(row("bare Hono echo (reference)", "http", "-", c, r, { note: "@hono/node-server, JSON body" }));
    }
  } finally {
    client.close();
    child.kill("SIGTERM");
  }
  return rows;
}

/** Installs the pinned graphile-worker and Node 22 into .bench/ (once; later runs reuse them). */
async function graphileInstall(ctx: BenchContext): Promise<string> {
  const node = join(CACHE, "node_modules/.bin/node");
  const marker = join(CACHE, "node_modules/graphile-worker/package.json");
  if (!existsSync(node) || !existsSync(marker)) {
    ctx.log("bench: installing graphile-worker and Node 22 into .bench/ (once)…");
    await mkdir(CACHE, { recursive: true });
    await writeFile(join(CACHE, "package.json"), JSON.stringify({ private: true, dependencies: PINNED }, null, 2));
    await promisify(execFile)("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: CACHE });
  }
  return node;
}

async function graphileRun(node: string, url: string, jobs: number, mode: "unbatched" | "batched") {
  // Run from inside .bench/, so `import "graphile-worker"` resolves to the pinned install there.
  const script = join(CACHE, "graphile-worker.mjs");
  await copyFile(join(ROOT, "scripts/bench/graphile-worker.mjs"), script);
  const { stdout } = await promisify(execFile)(node, [script, url, String(jobs), String(GRAPHILE_CONCURRENCY), mode], {
    cwd: CACHE,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as { jobs: number; seconds: number; throughput: number };
}

async function graphileRows(ctx: BenchContext, adminUrl: string): Promise<BenchRow[]> {
  const node = await graphileInstall(ctx);
  const rows: BenchRow[] = [];
  const results: Record<string, number> = {};
  for (const [mode, jobs] of [
    ["unbatched", Math.round(10_000 * ctx.scale)],
    ["batched", Math.round(50_000 * ctx.scale)],
  ] as const) {
    const name = `coord_bench_gw_${Date.now().toString(36)}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    try {
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      const r = await graphileRun(node, u.toString(), jobs, mode);
      results[mode] = r.throughput;
      rows.push({
        name: `graphile-worker ${PINNED["graphile-worker"]} (reference)`,
        via: "in-process",
        db: "postgres",
        concurrency: GRAPHILE_CONCURRENCY,
        ops: r.jobs,
        throughput: r.throughput,
        // Throughput only: graphile-worker reports no per-job latency that compares with a round trip.
        p50ms: Number.NaN,
        p95ms: Number.NaN,
        p99ms: Number.NaN,
        note:
          mode === "batched" ? "local queue 500, batched completion" : "unbatched: one fetch, one completion per job",
      });
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
  references.graphile = { unbatched: results.unbatched!, batched: results.batched! };
  return rows;
}

export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows = await echoRows(ctx);
  if (ctx.adminUrl) rows.push(...(await graphileRows(ctx, ctx.adminUrl)));
  return rows;
}
