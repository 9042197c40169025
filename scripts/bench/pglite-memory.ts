/**
 * PGlite memory over time (issue 14): runs the Node host on the embedded PGlite (`startServer("pglite")`) under a
 * steady mixed HTTP load — lock acquire+release, task submit+claim+complete, memory remember, memory recall — and
 * samples the server's memory every `--sample-seconds`, to tell a leak (grows without bound) from a plateau (PGlite's
 * WASM heap and V8's heap growing to their high-water marks).
 *
 *   nice -n 19 npx tsx scripts/bench/pglite-memory.ts --minutes 10
 *
 * Standalone, not part of `npm run bench`. Options: --minutes (10), --concurrency (8), --sample-seconds (10),
 * --no-forced-gc (sample without the probe's full GC first: RSS as V8 sizes its heap on its own), --data-dir DIR
 * (start on this data directory and keep it, e.g. a second run on an existing database: no initdb at start-up;
 * by default a fresh one that is removed), --snapshots (heap snapshots of the server after the first minute and at the end, for comparing in DevTools; a
 * snapshot briefly doubles the JS heap, so the RSS of a run with snapshots is not the number to quote).
 *
 * What is sampled: VmRSS and VmHWM from /proc/PID/status, and from inside the server (a probe loaded with
 * `--import`) process.memoryUsage() after a forced full GC — so heapUsed is the live JS set, not garbage waiting for
 * a collection — and the size of the WebAssembly memories alive (PGlite's Postgres heap: shared_buffers, catalog and
 * plan caches, sort memory; a WASM memory grows and never shrinks).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { benchHeaders, httpClient, runLoad, startServer } from "./harness.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    concurrency: { type: "string", default: "8" },
    "sample-seconds": { type: "string", default: "10" },
    snapshots: { type: "boolean", default: false },
    "no-forced-gc": { type: "boolean", default: false },
    "data-dir": { type: "string" },
  },
});
const minutes = Number(args.minutes);
const concurrency = Number(args.concurrency);
const sampleMs = Number(args["sample-seconds"]) * 1000;

// Loaded into the server with --import: every `sampleMs` it forces a full GC (unless --no-forced-gc) and appends one JSON line of
// process.memoryUsage() plus the bytes of the WebAssembly memories still alive. PGlite's Emscripten module creates
// its memory with `new WebAssembly.Memory` (initMemory), so a subclass installed before it loads sees it.
const PROBE = `
import { appendFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
setFlagsFromString("--expose-gc");
const gc = process.env.PGLITE_MEMORY_PROBE_GC === "1" ? runInNewContext("gc") : () => {};
const out = process.env.PGLITE_MEMORY_PROBE_OUT;
const memories = [];
const Original = WebAssembly.Memory;
WebAssembly.Memory = class extends Original {
  constructor(descriptor) {
    super(descriptor);
    memories.push(new WeakRef(this));
  }
};
setInterval(() => {
  gc();
  let wasm = 0, alive = 0;
  for (const ref of memories) {
    const m = ref.deref();
    if (m) { alive++; wasm += m.buffer.byteLength; }
  }
  appendFileSync(out, JSON.stringify({ at: Date.now(), ...process.memoryUsage(), wasm, wasmMemories: alive }) + "\\n");
}, Number(process.env.PGLITE_MEMORY_PROBE_MS)).unref();
`;

interface Probe {
  at: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  wasm: number;
  wasmMemories: number;
}

interface Sample {
  seconds: number;
  rssMb: number;
  hwmMb: number;
  /** Resident part of the WASM memories (PGlite's Postgres heap). */
  wasmRssMb: number;
  /** Resident part of the C heap (glibc's main arena, `[heap]`: V8 internals, libuv, zlib, …). */
  mallocRssMb: number;
  probe?: Probe;
  ops: number;
}

const MB = 1024 * 1024;

async function procStatus(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

/**
 * Resident MB of the WASM memories and of `[heap]`, from /proc/PID/smaps. V8 reserves a WASM memory as one cage
 * (8 or 10 GiB): the accessible part (rw-p, the memory's current size) followed directly by an inaccessible guard
 * (---p); an anonymous rw mapping that, with the guard after it, spans at least 4 GiB is a WASM memory.
 */
async function smapsBreakdown(pid: number): Promise<{ wasmRssMb: number; mallocRssMb: number }> {
  const text = await readFile(`/proc/${pid}/smaps`, "utf8");
  const maps: Array<{ start: bigint; end: bigint; perms: string; name: string; rssKb: number }> = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) maps.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, name: m[4]!, rssKb: 0 });
    else if (line.startsWith("Rss:") && maps.length) maps[maps.length - 1]!.rssKb = Number(line.split(/\s+/)[1]);
  }
  let wasmKb = 0;
  let mallocKb = 0;
  maps.forEach((m, i) => {
    if (m.name === "[heap]") mallocKb += m.rssKb;
    const guard = maps[i + 1];
    if (m.perms.startsWith("rw") && m.name === "" && guard?.perms.startsWith("---") && guard.start === m.end) {
      if (guard.end - m.start >= 4n * 1024n ** 3n) wasmKb += m.rssKb;
    }
  });
  return { wasmRssMb: wasmKb / 1024, mallocRssMb: mallocKb / 1024 };
}

async function lastProbe(file: string): Promise<Probe | undefined> {
  const lines = (await readFile(file, "utf8").catch(() => "")).trim().split("\n");
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as Probe) : undefined;
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "pglite-memory-"));
  const probeFile = join(work, "probe.mjs");
  const probeOut = join(work, "probe.jsonl");
  const snapshotDir = join(work, "snapshots");
  await writeFile(probeFile, PROBE);
  const nodeOptions = [
    process.env.NODE_OPTIONS ?? "",
    `--import=${pathToFileURL(probeFile).href}`,
    ...(args.snapshots ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshotDir}`] : []),
  ].join(" ");
  if (args.snapshots) await mkdir(snapshotDir);

  const server = await startServer("pglite", undefined, {
    NODE_OPTIONS: nodeOptions,
    PGLITE_MEMORY_PROBE_OUT: probeOut,
    PGLITE_MEMORY_PROBE_MS: String(sampleMs),
    PGLITE_MEMORY_PROBE_GC: args["no-forced-gc"] ? "0" : "1",
    ...(args["data-dir"] ? { COORDINATOR_DATA_DIR: args["data-dir"] } : {}),
  });
  const client = httpClient(server.url);
  const counts = { lock: 0, task: 0, remember: 0, recall: 0 };
  type Kind = keyof typeof counts;
  // Milliseconds spent per kind in each minute: whether a slowing op rate comes from one kind (a table that grows).
  const spent: Array<Record<Kind, number>> = [];
  let ops = 0;
  const samples: Sample[] = [];
  const started = performance.now();
  const sample = async () => {
    const s = await procStatus(server.pid);
    const b = await smapsBreakdown(server.pid);
    samples.push({
      seconds: Math.round((performance.now() - started) / 1000),
      ...s,
      ...b,
      probe: await lastProbe(probeOut),
      ops,
    });
    const p = samples[samples.length - 1]!.probe;
    process.stderr.write(
      `  ${samples[samples.length - 1]!.seconds}s rss ${s.rssMb.toFixed(0)} MB (wasm ${b.wasmRssMb.toFixed(0)}, [heap] ${b.mallocRssMb.toFixed(0)})` +
        (p
          ? `, heapUsed ${(p.heapUsed / MB).toFixed(0)}, external ${(p.external / MB).toFixed(0)}, wasm size ${(p.wasm / MB).toFixed(0)} (${p.wasmMemories})`
          : "") +
        `, ops ${ops}\n`,
    );
  };

  const taskType = "pglite-memory";
  const check = (what: string, res: { status: number; body: unknown }, ok: number) => {
    if (res.status !== ok) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  };
  // One mixed operation: i cycles through the four kinds; every text differs, as real agents' texts do.
  const op = async (w: number, i: number) => {
    const h = benchHeaders(`mem-agent-${w}`);
    const n = Math.abs(i);
    const t0 = performance.now();
    const kind = (["lock", "task", "remember", "recall"] as const)[n % 4]!;
    switch (n % 4) {
      case 0: {
        const file = `src/mem/${w}/file${n % 50}.ts`;
        check("acquire", await client.call("POST", "/locks/acquire", { file_path: file }, h), 200);
        check("release", await client.call("POST", "/locks/release", { file_path: file }, h), 200);
        counts.lock++;
        break;
      }
      case 1: {
        check("submit", await client.call("POST", "/work/tasks", { task_type: taskType, payload: { n } }, h), 201);
        const claim = await client.call("POST", "/work/claim", { task_types: [taskType], limit: 1 }, h);
        check("claim", claim, 200);
        const t = (claim.body?.tasks ?? [])[0] as { id: number; claim_token: number } | undefined;
        if (t) {
          const done = await client.call(
            "POST",
            `/work/tasks/${t.id}/complete`,
            { claim_token: t.claim_token, success: true },
            h,
          );
          check("complete", done, 200);
        }
        counts.task++;
        break;
      }
      case 2:
        check(
          "remember",
          await client.call(
            "POST",
            "/memory",
            {
              event_type: "observation",
              summary: `Worker ${w} saw the retry queue of mod${n % 997} drain after deploy ${n}`,
              details: "Measured while checking the embedded database's memory over time.",
              tags: ["memory-bench", `mod${n % 97}`],
            },
            h,
          ),
          201,
        );
        counts.remember++;
        break;
      default:
        check(
          "recall",
          await client.call(
            "POST",
            "/memory/recall",
            { task_description: `why did the retry queue of mod${n % 997} stall after deploy`, limit: 10 },
            h,
          ),
          200,
        );
        counts.recall++;
    }
    const minute = Math.floor((t0 - started) / 60_000);
    spent[minute] ??= { lock: 0, task: 0, remember: 0, recall: 0 };
    spent[minute][kind] += performance.now() - t0;
    ops++;
  };

  try {
    await sample();
    const timer = setInterval(() => void sample(), sampleMs);
    let snapshotTimer: NodeJS.Timeout | undefined;
    if (args.snapshots) snapshotTimer = setTimeout(() => process.kill(server.pid, "SIGUSR2"), 60_000);
    try {
      await runLoad(concurrency, op, { durationMs: minutes * 60_000, warmupMs: 0 });
    } finally {
      clearInterval(timer);
      clearTimeout(snapshotTimer);
    }
    // Let the probe write once more after the load, so the last row has the process's own view too.
    await new Promise((r) => setTimeout(r, sampleMs + 500));
    await sample();
    if (args.snapshots) {
      process.kill(server.pid, "SIGUSR2");
      await new Promise((r) => setTimeout(r, 15_000));
      process.stderr.write(`heap snapshots in ${snapshotDir}\n`);
    }
  } finally {
    client.close();
    await server.stop();
  }

  // One row per minute (the sample nearest each minute mark), plus the first and the last.
  const marks = new Map<number, Sample>();
  for (const s of samples) {
    const m = Math.round(s.seconds / 60);
    const best = marks.get(m);
    if (!best || Math.abs(s.seconds - m * 60) < Math.abs(best.seconds - m * 60)) marks.set(m, s);
  }
  const last = samples[samples.length - 1]!;
  const rows = [...marks.values()];
  if (!rows.includes(last)) rows.push(last);
  const mb = (b?: number) => (b === undefined ? "-" : (b / MB).toFixed(0));
  const head = ["minute", "RSS MB", "WASM res MB", "WASM size MB", "[heap] MB", "JS heap MB", "ops"];
  const lines = rows.map((s) => [
    (s.seconds / 60).toFixed(1),
    s.rssMb.toFixed(0),
    s.wasmRssMb.toFixed(0),
    mb(s.probe?.wasm),
    s.mallocRssMb.toFixed(0),
    mb(s.probe?.heapUsed),
    String(s.ops),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(" | ")} |`;
  console.log(
    `PGlite server memory, ${minutes} min of mixed HTTP load at concurrency ${concurrency} ` +
      `(ops: ${counts.lock} lock pairs, ${counts.task} task cycles, ${counts.remember} remembers, ${counts.recall} recalls)`,
  );
  console.log(`peak RSS (VmHWM, start-up included) ${last.hwmMb.toFixed(0)} MB`);
  console.log([fmt(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(fmt)].join("\n"));
  // Mean latency per kind in the first and the last full minute (each kind is a quarter of the ops).
  const perKind = (m: number) => {
    const opsIn = (marks.get(m + 1)?.ops ?? 0) - (marks.get(m)?.ops ?? 0);
    const t = spent[m];
    if (!t || opsIn <= 0) return "-";
    return (Object.keys(t) as Kind[]).map((k) => `${k} ${(t[k] / (opsIn / 4)).toFixed(1)}`).join(", ");
  };
  const lastFull = Math.floor(minutes) - 1;
  if (lastFull > 0) console.log(`mean ms, minute 1: ${perKind(0)}; minute ${lastFull + 1}: ${perKind(lastFull)}`);
  if (!args.snapshots) await rm(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
