/**
 * Edge cold start: how long a new Deno process running the edge entry (supabase/functions/coordinator/index.ts, as
 * `npm run edge` runs it) takes from spawn to its first 200 on GET /health, against a migrated Postgres — the wait a
 * request pays when Supabase starts a new worker for it. Deno's module cache is warm (one unmeasured start first),
 * as it is on a deployed function. The reference row is a hello-world `Deno.serve` measured the same way in the same
 * run: what Deno itself costs, so the ratio shows what the app adds.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_KEY, benchDatabase, type BenchContext, type BenchRow, row } from "./harness.ts";

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

/** Spawns a Deno process and answers the milliseconds from spawn to its first 200 on /health; then stops it. */
async function coldStart(args: string[], env: Record<string, string>, cwd: string): Promise<number> {
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
      if ((await health(port)) === 200) return performance.now() - start;
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

/** `runs` measured cold starts after one unmeasured one (which fills Deno's caches), as a table row. */
async function measure(
  name: string,
  db: BenchRow["db"],
  runs: number,
  start: () => Promise<number>,
  note: string,
): Promise<BenchRow> {
  await start();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await start());
  const total = ms.reduce((a, b) => a + b, 0);
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
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
    { note },
  );
}

const HELLO = `Deno.serve({ port: Number(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));\n`;

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
    const app = await measure(
      "edge cold start: spawn → first /health 200",
      "postgres",
      runs,
      () => coldStart(serveArgs(), env, ROOT),
      "starts/s; deno task serve's command, warm module cache",
    );
    await writeFile(join(helloDir, "hello.ts"), HELLO);
    const hello = await measure(
      "Deno.serve hello-world cold start (reference)",
      "-",
      runs,
      () => coldStart(["run", "--no-config", "--allow-net", "--allow-env", join(helloDir, "hello.ts")], {}, helloDir),
      "starts/s; spawn → first 200",
    );
    app.note += `; p50 ${(app.p50ms / hello.p50ms).toFixed(1)}× the hello-world's`;
    return [app, hello];
  } finally {
    await rm(helloDir, { recursive: true, force: true });
    await database.drop();
  }
}
