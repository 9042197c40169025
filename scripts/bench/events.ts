/**
 * The event stream under load: 200 SSE subscribers on the Node host while agents take and release locks over HTTP.
 * Rows: events delivered per second (summed over subscribers) with the p50/p99 delivery latency (from the change's
 * transaction to the subscriber reading it), and lock throughput with 200 subscribers connected versus none — once
 * with every subscriber receiving every lock event (the worst case), once with subscribers that filter to other kinds
 * (what a bridge or a dashboard mostly does).
 */
import { request } from "node:http";
import {
  BENCH_ADMIN_KEY,
  cpuSeconds,
  benchDatabase,
  benchHeaders,
  httpClient,
  type LoadResult,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
} from "./harness.ts";

const SUBSCRIBERS = 200;
// Subscribers that parse every message to measure latency; the others only count events (the client process would
// otherwise spend more on parsing than the server on sending).
const SAMPLED = 10;

interface Subscribers {
  delivered(): number;
  latencies(): number[];
  dropped(): number;
  reset(): void;
  close(): void;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Opens `n` event streams (admin key: every event) and counts what arrives. */
async function subscribe(baseUrl: string, n: number, kinds: string): Promise<Subscribers> {
  const url = new URL(`/events?kinds=${encodeURIComponent(kinds)}`, baseUrl);
  let delivered = 0;
  let dropped = 0;
  let latencies: number[] = [];
  let closing = false;
  const requests: Array<ReturnType<typeof request>> = [];
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            {
              host: url.hostname,
              port: url.port,
              path: `${url.pathname}${url.search}`,
              headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, "x-agent-id": `bench-sub-${i}` },
            },
            (res) => {
              if (res.statusCode !== 200) return reject(new Error(`subscriber ${i}: HTTP ${res.statusCode}`));
              res.setEncoding("utf8");
              let opened = false;
              let buffer = "";
              let tail = "";
              res.on("data", (chunk: string) => {
                const now = performance.timeOrigin + performance.now();
                if (!opened) {
                  opened = true;
                  resolve();
                }
                if (i < SAMPLED) {
                  buffer += chunk;
                  for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
                    const block = buffer.slice(0, cut);
                    buffer = buffer.slice(cut + 2);
                    const data = block.split("\n").find((l) => l.startsWith("data: "));
                    if (!data || !block.includes("\nevent: lock.")) continue;
                    const at = Date.parse((JSON.parse(data.slice(6)) as { occurred_at: string }).occurred_at);
                    latencies.push(now - at);
                    delivered++;
                  }
                } else {
                  // Every event frame starts "id: " right after the blank line that ends the one before it.
                  const text = tail + chunk;
                  for (let at = text.indexOf("\n\nid: "); at >= 0; at = text.indexOf("\n\nid: ", at + 6)) delivered++;
                  tail = text.slice(-5);
                }
              });
              res.on("end", () => {
                if (!closing) dropped++;
              });
              res.on("error", () => {});
            },
          );
          req.on("error", (err) => (closing ? undefined : reject(err)));
          req.end();
          requests.push(req);
        }),
    ),
  );
  return {
    delivered: () => delivered,
    latencies: () => latencies,
    dropped: () => dropped,
    reset() {
      delivered = 0;
      latencies = [];
    },
    close() {
      closing = true;
      for (const r of requests) r.destroy();
    },
  };
}

/** Lock acquire+release pairs over HTTP, each agent on its own file. */
async function lockLoad(client: ReturnType<typeof httpClient>, concurrency: number, durationMs: number, tag: string) {
  const key = (w: number) => `bench/events-${tag}-${w}/file.ts`;
  return runLoad(
    concurrency,
    async (w) => {
      const h = benchHeaders(`ev-${tag}-${w}`);
      const a = await client.call("POST", "/locks/acquire", { file_path: key(w) }, h);
      if (a.status !== 200) throw new Error(`acquire answered ${a.status}`);
      const r = await client.call("POST", "/locks/release", { file_path: key(w) }, h);
      if (r.status !== 200) throw new Error(`release answered ${r.status}`);
    },
    { durationMs },
  );
}

async function benchOne(
  ctx: BenchContext,
  kind: "postgres" | "pglite",
  databaseUrl: string | undefined,
  concurrency: number,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const durationMs = 4000 * ctx.scale;
  const server = await startServer(kind, databaseUrl);
  const client = httpClient(server.url);
  const name = "lock acquire+release";
  // The server's own CPU per lock pair in each phase: on a 2-core machine the subscribers' client side (200 sockets
  // read in this process) competes with the server, so throughput alone overstates what the server pays.
  const measured = async (tag: string) => {
    const cpu0 = await cpuSeconds(server.pid);
    const own0 = process.cpuUsage();
    const r = await lockLoad(client, concurrency, durationMs, tag);
    const cpuMs = ((await cpuSeconds(server.pid)) - cpu0) * 1000;
    const own = process.cpuUsage(own0);
    return { r, cpuPerPair: cpuMs / Math.max(1, r.ops), clientCpu: (own.user + own.system) / 1e6 / r.seconds };
  };
  const cpuNote = (x: { cpuPerPair: number; clientCpu: number }) =>
    `server CPU ${x.cpuPerPair.toFixed(2)} ms/pair, bench client ${(x.clientCpu * 100).toFixed(0)}% of a core`;
  try {
    const before = await measured("a");

    ctx.log(`  ${kind}: ${SUBSCRIBERS} subscribers to every lock event`);
    const all = await subscribe(server.url, SUBSCRIBERS, "lock.");
    // Quiet first: one agent taking and releasing a lock every 50 ms, as a handful of working agents would.
    all.reset();
    const quietStart = performance.now();
    let pairs = 0;
    while (performance.now() - quietStart < durationMs) {
      const h = benchHeaders("ev-quiet");
      await client.call("POST", "/locks/acquire", { file_path: "bench/events-quiet.ts" }, h);
      await client.call("POST", "/locks/release", { file_path: "bench/events-quiet.ts" }, h);
      pairs++;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    const quietLatencies = all.latencies().sort((a, b) => a - b);
    const quietSeconds = (performance.now() - quietStart) / 1000;
    rows.push({
      name: "events delivered, quiet",
      via: "sse",
      db: kind,
      concurrency: SUBSCRIBERS,
      ops: all.delivered(),
      throughput: all.delivered() / quietSeconds,
      p50ms: percentile(quietLatencies, 50),
      p95ms: percentile(quietLatencies, 95),
      p99ms: percentile(quietLatencies, 99),
      note: `one agent, a lock pair every 50 ms (${(pairs / quietSeconds).toFixed(0)} pairs/s); latency: transaction to subscriber`,
    });
    all.reset();
    const withAll = await measured("b");
    // Events still in flight when the load stops are counted if they arrive within a second.
    await new Promise((r) => setTimeout(r, 1000));
    const delivered = all.delivered();
    const latencies = all.latencies().sort((a, b) => a - b);
    const droppedAll = all.dropped();
    all.close();

    ctx.log(`  ${kind}: ${SUBSCRIBERS} subscribers filtering to other kinds`);
    const others = await subscribe(server.url, SUBSCRIBERS, "verification.");
    const withFiltered = await measured("c");
    others.close();

    const after = await measured("d");
    const baseline = (before.r.throughput + after.r.throughput) / 2;
    const none: LoadResult = {
      ...before.r,
      ops: before.r.ops + after.r.ops,
      seconds: before.r.seconds + after.r.seconds,
      throughput: baseline,
    };
    rows.push(
      row(name, "http", kind, concurrency, none, {
        note: `0 subscribers (mean of a run before and after); ${cpuNote({
          cpuPerPair: (before.cpuPerPair + after.cpuPerPair) / 2,
          clientCpu: (before.clientCpu + after.clientCpu) / 2,
        })}`,
      }),
    );
    rows.push(
      row(name, "http", kind, concurrency, withAll.r, {
        ratio: withAll.r.throughput / baseline,
        note: `${SUBSCRIBERS} subscribers to every lock event (vs 0); ${cpuNote(withAll)}`,
      }),
    );
    rows.push(
      row(name, "http", kind, concurrency, withFiltered.r, {
        ratio: withFiltered.r.throughput / baseline,
        note: `${SUBSCRIBERS} subscribers to other kinds (vs 0); ${cpuNote(withFiltered)}`,
      }),
    );
    const seconds = withAll.r.seconds + 1;
    rows.push({
      name: "events delivered",
      via: "sse",
      db: kind,
      concurrency: SUBSCRIBERS,
      ops: delivered,
      throughput: delivered / seconds,
      p50ms: percentile(latencies, 50),
      p95ms: percentile(latencies, 95),
      p99ms: percentile(latencies, 99),
      note:
        `${(delivered / SUBSCRIBERS / seconds).toFixed(0)}/s per subscriber; latency: transaction to subscriber, ` +
        `${SAMPLED} sampled` +
        (droppedAll ? `; ${droppedAll} streams dropped as too slow` : ""),
    });
  } finally {
    client.close();
    await server.stop();
  }
  return rows;
}

export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (ctx.adminUrl) {
    const database = await benchDatabase(ctx.adminUrl);
    try {
      rows.push(...(await benchOne(ctx, "postgres", database.url, 32)));
    } finally {
      await database.drop();
    }
  }
  rows.push(...(await benchOne(ctx, "pglite", undefined, 8)));
  return rows;
}
