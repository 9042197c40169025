/**
 * Edge cold start: how long a new Deno process running the edge entry (supabase/functions/coordinator/index.ts, as
 * `npm run edge` runs it) takes from spawn to its first 200 on GET /health, against a migrated Postgres — the wait a
 * request pays when Supabase starts a new worker for it. Deno's module cache is warm (one unmeasured start first),
 * as it is on a deployed function. Two reference rows are measured the same way in the same run, the three taking
 * turns: a hello-world `Deno.serve` (what Deno itself costs) and the app's stack alone (zod, Hono and postgres.js
 * answering /health with the same query), so the ratios show what the stack adds and what the app adds on top.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_KEY, benchDatabase, type BenchContext, type BenchRow, cpuSeconds, row } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** How often the client asks /health while the process starts: the resolution of every figure. */
const POLL_MS = 2;

/** The Deno binary the root postinstall installed into tools/deno (spawned directly: no Node shim in the timing). */
function denoBinary(): string {
  const require = createRequire(join(ROOT, "tools/deno/package.json"));
  const exe = join(dirname(require.resolve("deno/bin.cjs")), process.platform === "win32" ? "deno.exe" : "deno");
  if (existsSync(exe)) return exe;
  // The package's own fallback when its postinstall did not link the binary (what bin.cjs does).
  return (require("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}

/** `deno task serve`'s arguments (deno.json), so the bench runs the entry exactly as `npm run edge` does. */
function serveArgs(): string[] {
  const tasks = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).tasks as Record<string, string>;
  const [deno, ...args] = tasks.serve!.split(/\s+/);
  if (deno !== "deno") throw new Error(`deno.json's serve task does not start with deno: ${tasks.serve}`);
  return args;
}

/** One GET /health on a fresh connection: its status, or 0 when nothing listens yet. */
function health(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

let nextPort = 21000 + Math.floor(Math.random() * 2000);

interface Start {
  /** Wall milliseconds from spawn to the first 200. */
  ms: number;
  /** CPU milliseconds the process used until then (Linux /proc; NaN elsewhere): steadier than wall on a busy machine. */
  cpuMs: number;
}

/** Spawns a Deno process and measures it from spawn to its first 200 on /health; then stops it. */
async function coldStart(args: string[], env: Record<string, string>, cwd: string): Promise<Start> {
  const port = nextPort++;
  let output = "";
  const start = performance.now();
  const child: ChildProcess = spawn(denoBinary(), args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (d) => {
    output = (output + d).slice(-4000);
  });
  try {
    const until = start + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`deno exited with ${child.exitCode}:\n${output}`);
      if ((await health(port)) === 200) {
        const ms = performance.now() - start;
        const cpuMs = await cpuSeconds(child.pid!).then(
          (s) => s * 1000,
          () => Number.NaN,
        );
        return { ms, cpuMs };
      }
      if (performance.now() > until) throw new Error(`no 200 on /health within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Starts as a table row (throughput: starts per second of start time); the note ends with the median CPU time. */
function startRow(name: string, db: BenchRow["db"], starts: Start[], note: string): BenchRow {
  const ms = starts.map((s) => s.ms);
  const cpu = median(starts.map((s) => s.cpuMs));
  const total = ms.reduce((a, b) => a + b, 0);
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return row(
    name,
    "deno",
    db,
    1,
    {
      ops: ms.length,
      seconds: total / 1000,
      throughput: ms.length / (total / 1000),
      p50ms: at(50),
      p95ms: at(95),
      p99ms: at(99),
    },
    { note: Number.isNaN(cpu) ? note : `${note}; CPU p50 ${cpu.toFixed(0)} ms` },
  );
}

const HELLO = `Deno.serve({ port: Number(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));\n`;

// The app's stack and nothing else: zod loaded, a Hono app, postgres.js answering /health with the query the app's
// /health makes. Run with the repository's deno.json (same versions, same lockfile): the floor under the app's start.
const FLOOR = `import "zod";
import { Hono } from "hono";
import postgres from "postgres";
const sql = postgres(Deno.env.get("DATABASE_URL"), { max: 2, onnotice: () => {}, types: {} });
const app = new Hono().get("/health", async (c) => c.json((await sql.unsafe("select coord.schema_version() as v"))[0]));
Deno.serve({ port: Number(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen() {} }, app.fetch);
`;

export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  if (!ctx.adminUrl) {
    ctx.log("bench: edge cold start skipped (the edge entry needs Postgres: set DATABASE_URL)");
    return [];
  }
  const runs = Math.max(3, Math.round(10 * ctx.scale));
  const database = await benchDatabase(ctx.adminUrl);
  const helloDir = await mkdtemp(join(tmpdir(), "coord-bench-hello-"));
  try {
    const env = {
      DATABASE_URL: database.url,
      COORDINATION_API_KEYS: BENCH_KEY,
      LOG_LEVEL: "error",
    };
    await writeFile(join(helloDir, "hello.ts"), HELLO);
    await writeFile(join(helloDir, "floor.ts"), FLOOR);
    const app = () => coldStart(serveArgs(), env, ROOT);
    const hello = () =>
      coldStart(["run", "--no-config", "--allow-net", "--allow-env", join(helloDir, "hello.ts")], {}, helloDir);
    const floor = () =>
      coldStart(
        [
          "run",
          "--config",
          join(ROOT, "deno.json"),
          "--allow-net",
          "--allow-env",
          "--allow-read",
          "--allow-sys",
          join(helloDir, "floor.ts"),
        ],
        { DATABASE_URL: database.url },
        helloDir,
      );
    // One unmeasured start of each fills Deno's caches. Then they take turns, so a machine that gets busier or
    // quieter during the run moves every figure alike and the ratios hold.
    await app();
    await floor();
    await hello();
    const appStarts: Start[] = [];
    const floorStarts: Start[] = [];
    const helloStarts: Start[] = [];
    for (let i = 0; i < runs; i++) {
      appStarts.push(await app());
      floorStarts.push(await floor());
      helloStarts.push(await hello());
    }
    const appRow = startRow(
      "edge cold start: spawn → first /health 200",
      "postgres",
      appStarts,
      "starts/s; deno task serve's command, warm module cache",
    );
    const helloRow = startRow(
      "Deno.serve hello-world cold start (reference)",
      "-",
      helloStarts,
      "starts/s; spawn → first 200",
    );
    const floorRow = startRow(
      "zod + Hono + postgres.js /health cold start (reference)",
      "postgres",
      floorStarts,
      "starts/s; the app's stack alone, one query",
    );
    appRow.note += `; p50 ${(appRow.p50ms / floorRow.p50ms).toFixed(1)}× the stack's, ${(appRow.p50ms / helloRow.p50ms).toFixed(1)}× the hello-world's`;
    floorRow.note += `; p50 ${(floorRow.p50ms / helloRow.p50ms).toFixed(1)}× the hello-world's`;
    return [appRow, floorRow, helloRow];
  } finally {
    await rm(helloDir, { recursive: true, force: true });
    await database.drop();
  }
}
