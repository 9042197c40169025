// The graphile-worker reference row of `npm run bench` (scripts/bench/references.ts runs this file under Node 22, which
// graphile-worker 0.18 requires). It drains a queue of no-op jobs the way the coordinator's own queue rows drain
// theirs — no work per job, so the number is the queue's own overhead — and prints one JSON line.
//
//   node graphile-worker.mjs DATABASE_URL JOBS CONCURRENCY unbatched|batched
import { Logger, makeWorkerUtils, run } from "graphile-worker";

// Silent: a log line per job would measure the logger.
const logger = new Logger(() => () => {});

const [url, jobsArg, concurrencyArg, mode] = process.argv.slice(2);
const jobs = Number(jobsArg);
const concurrency = Number(concurrencyArg);
const batched = mode === "batched";

const utils = await makeWorkerUtils({ connectionString: url, logger });
await utils.migrate();
// Enqueued in one statement before the clock starts: the row measures claiming and completing, as ours do.
for (let i = 0; i < jobs; i += 10_000) {
  const n = Math.min(10_000, jobs - i);
  await utils.addJobs(Array.from({ length: n }, () => ({ identifier: "bench", payload: {} })));
}
await utils.release();

let done = 0;
let started = 0;
let finished;
const allDone = new Promise((resolve) => {
  finished = resolve;
});
const runner = await run({
  connectionString: url,
  concurrency,
  maxPoolSize: concurrency + 2,
  noHandleSignals: true,
  pollInterval: 1000,
  logger,
  taskList: {
    bench: async () => {
      if (started === 0) started = performance.now();
    },
  },
  // The batched row: graphile-worker's own batching — a local queue fetches many jobs per query, and completions are
  // written in batches.
  preset: batched
    ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
    : undefined,
});
runner.events.on("job:complete", () => {
  if (++done === jobs) finished();
});
await allDone;
const seconds = (performance.now() - started) / 1000;
await runner.stop();
process.stdout.write(`${JSON.stringify({ jobs, seconds, throughput: jobs / seconds })}\n`);
