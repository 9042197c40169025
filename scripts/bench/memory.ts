/**
 * Memory benchmark: remember throughput (HTTP, and raw SQL on Postgres for the ratio; on PGlite with the embedding
 * path off and on, against a local OpenAI-compatible stand-in), and recall latency at 10k/100k memories on Postgres
 * (lexical: no pgvector there) and 10k/20k/100k on PGlite, lexical and fused with vectors. Corpora are bulk-loaded
 * with one INSERT … SELECT; their vectors come from the stand-in's hashed bag-of-words, written in bulk before the
 * HNSW index is built.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { migrate } from "../host/migrate.ts";
import { createPgliteDb } from "../host/pglite.ts";
import type { Queryable } from "../../functions-src/db/port.ts";
import { bagOfWords, startEmbeddingServer } from "../../test/embedding-server.ts";
import { expandQuery } from "../../functions-src/memory/expansion.ts";
import {
  benchDatabase,
  benchHeaders,
  httpClient,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
} from "./harness.ts";

/** Appends `n` synthetic memories after the existing ones: templated text with component, file and error-code terms. */
export function bulkLoadSql(from: number, n: number): string {
  return `
insert into coord.memories (layer, repo, agent_id, event_type, summary, details, tags, norm_summary, outcome, created_at, last_seen_at)
select 'episodic', 'bench/repo', 'bench-agent-' || (i % 50), t.event_type, t.summary, t.details, array[c, dep],
       coord.memory_normalize(t.summary), (array['success', 'failure', 'partial'])[1 + i % 3],
       now() - (i % 365) * interval '1 day', now() - (i % 365) * interval '1 day'
  from generate_series(${from + 1}, ${from + n}) as i,
  lateral (select (array['billing worker', 'invoice exporter', 'search indexer', 'admin dashboard', 'notification service',
                         'image thumbnailer', 'report scheduler', 'sync daemon', 'profile page', 'audit log writer',
                         'checkout flow', 'flag client', 'email renderer', 'csv importer', 'session store'])[1 + (i * 7) % 15] as c,
                  (array['axios', 'lodash', 'date-fns', 'uuid', 'sharp', 'bullmq', 'ioredis', 'nodemailer', 'papaparse', 'stripe'])[1 + (i * 13) % 10] as dep,
                  'src/' || ((i * 17) % 40) || '/mod' || (i % 2000) || '.ts' as file,
                  'E' || ((i * 31) % 5000) as code) v,
  lateral (select case i % 4
    when 0 then 'test_failure' when 1 then 'build_fix' when 2 then 'convention' else 'api_quirk' end as event_type,
    case i % 4
    when 0 then format('%s test in %s failed with %s: expected %s rows but got %s', c, file, code, i % 7, i % 5)
    when 1 then format('Build of the %s broke after upgrading %s; pinned it in %s (%s)', c, dep, file, code)
    when 2 then format('Convention: the %s keeps %s calls behind a wrapper in %s', c, dep, file)
    else format('%s returns %s for empty input in the %s, see %s', dep, code, c, file) end as summary,
    format('Seen by agent %s while working on task T-%s. Retried twice; the fix touched %s.', i % 50, i, file) as details) t`;
}

const QUERIES = [
  "billing worker test failed in src/3/mod17.ts",
  "upgrading axios broke the build of the search indexer",
  "E1234 error in the checkout flow",
  "stripe returns an error code for empty input",
  "how do we wrap lodash calls in the csv importer",
  "report scheduler test expected rows but got fewer",
  "sharp upgrade broke image thumbnailer build",
  "mod1999 failing",
  "configure kubernetes autoscaler",
  "session store ioredis convention",
];

/** Stop-word tails make each query text new (so a fused recall embeds it afresh) without changing its terms. */
const TAILS = ["", " the", " of the", " to the", " for it", " in the", " and the", " on it", " with the", " at it"];

async function recallRows(
  ctx: BenchContext,
  kind: "postgres" | "pglite",
  size: number,
  url: string,
  sql?: postgres.Sql,
  label = "recall",
): Promise<BenchRow[]> {
  const client = httpClient(url);
  const duration = 2500 * ctx.scale;
  const rows: BenchRow[] = [];
  try {
    const body = (i: number) => ({
      task_description:
        QUERIES[Math.abs(i) % QUERIES.length]! + TAILS[Math.floor(Math.abs(i) / QUERIES.length) % TAILS.length]!,
      limit: 10,
    });
    // What the app sends for the same query: the raw SQL row does the same work (expansions included).
    const sqlBody = (i: number) => ({
      ...body(i),
      expansions: expandQuery(body(i).task_description) as unknown as postgres.JSONValue,
    });
    // Steady state, not a cold start: every query once per connection path warms caches and plans first.
    for (let i = 0; i < 2 * QUERIES.length; i++) {
      await client.call("POST", "/memory/recall", body(i), benchHeaders("bench-reader"));
      if (sql) await sql`select coord.recall('bench-reader', null, ${sql.json(sqlBody(i))}) as r`;
    }
    const r = await runLoad(
      1,
      async (_, i) => {
        const res = await client.call("POST", "/memory/recall", body(i), benchHeaders("bench-reader"));
        if (res.status !== 200) throw new Error(`recall ${res.status}: ${JSON.stringify(res.body)}`);
      },
      { durationMs: duration },
    );
    rows.push(row(`${label} @${size / 1000}k`, "http", kind, 1, r));
    if (sql) {
      const s = await runLoad(
        1,
        (_, i) => sql`select coord.recall('bench-reader', null, ${sql.json(sqlBody(i))}) as r`,
        {
          durationMs: duration,
        },
      );
      rows.push(row(`recall @${size / 1000}k`, "sql", kind, 1, s));
      rows[rows.length - 2]!.ratio = r.throughput / s.throughput;
    }
  } finally {
    client.close();
  }
  return rows;
}

async function rememberRows(
  ctx: BenchContext,
  kind: "postgres" | "pglite",
  url: string,
  sql?: postgres.Sql,
  label = "remember",
): Promise<BenchRow[]> {
  const client = httpClient(url);
  const duration = 3000 * ctx.scale;
  const conc = 16;
  const doc = (w: number, i: number, via: string) => ({
    event_type: "observation",
    summary: `Bench ${via} memory ${w}-${i}: retry queue drained after deploy of mod${i % 500}`,
    tags: ["bench"],
    details: "A short details field, as agents usually write.",
  });
  try {
    const r = await runLoad(
      conc,
      async (w, i) => {
        const res = await client.call("POST", "/memory", doc(w, i, "http"), benchHeaders(`bench-writer-${w}`));
        if (res.status !== 201) throw new Error(`remember ${res.status}: ${JSON.stringify(res.body)}`);
      },
      { durationMs: duration },
    );
    const rows = [row(label, "http", kind, conc, r)];
    if (sql) {
      const s = await runLoad(
        conc,
        (w, i) => sql`select coord.remember(${`bench-sql-${w}`}, null, ${sql.json(doc(w, i, "sql"))}) as r`,
        { durationMs: duration },
      );
      rows[0]!.ratio = r.throughput / s.throughput;
      rows.push(row("remember", "sql", kind, conc, s));
    }
    return rows;
  } finally {
    client.close();
  }
}

async function load(db: Queryable, from: number, n: number) {
  // The corpus spans a year of last_seen_at; the host's start-up upkeep would archive three quarters of it (retention
  // 90 days) before anything is measured. Keep every row hot.
  await db.exec(
    `insert into coord.memory_settings (key, value) values ('retention_days', '3650')
     on conflict (key) do update set value = excluded.value`,
  );
  await db.exec(bulkLoadSql(from, n));
  await db.exec("analyze coord.memories; analyze coord.memory_words");
}

async function benchPostgres(ctx: BenchContext): Promise<BenchRow[]> {
  const database = await benchDatabase(ctx.adminUrl!);
  const server = await startServer("postgres", database.url);
  const sql = postgres(database.url, { max: 16, onnotice: () => {} });
  const rows: BenchRow[] = [];
  try {
    rows.push(...(await rememberRows(ctx, "postgres", server.url, sql)));
    const sizes = [10_000, Math.round(100_000 * Math.max(ctx.scale, 0.2))];
    let loaded = 0;
    for (const size of sizes) {
      const t = performance.now();
      await load(database.db, loaded, size - loaded);
      ctx.log(`  memory: loaded ${size} rows on postgres in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      loaded = size;
      rows.push(...(await recallRows(ctx, "postgres", size, server.url, sql)));
    }
  } finally {
    await sql.end();
    await server.stop();
    await database.drop();
  }
  return rows;
}

/** Gives every memory without a vector its stand-in vector, in bulk, then (re)builds the HNSW index. */
async function embedAll(db: Queryable, model: string) {
  await db.exec("drop index if exists coord.memories_embedding_idx");
  for (;;) {
    const rows = await db.query<{ id: number; text: string }>(
      `select id, left(concat_ws(E'\n', summary, name, array_to_string(tags, ', '), lessons, details), 2000) as text
         from coord.memories where embedding is null order by id limit 2000`,
    );
    if (rows.length === 0) break;
    await db.query(
      `update coord.memories m set embedding = v.e::extensions.vector, embedding_model = $3
         from unnest($1::bigint[], $2::text[]) as v(id, e) where m.id = v.id`,
      [
        rows.map((r) => r.id),
        rows.map(
          (r) =>
            `[${bagOfWords(r.text)
              .map((x) => x.toFixed(5))
              .join(",")}]`,
        ),
        model,
      ],
    );
  }
  await db.exec(
    "create index memories_embedding_idx on coord.memories using hnsw (embedding extensions.vector_cosine_ops)",
  );
}

async function benchPglite(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "coord-bench-memory-"));
  const embeddings = await startEmbeddingServer();
  const model = "bench-bow";
  // The stand-in's similarities are low (hashed words, not meaning): a floor that lets its neighbours through, so the
  // fused path does its full work.
  const embedEnv = {
    MEMORY_EMBEDDING_URL: embeddings.url,
    MEMORY_EMBEDDING_MODEL: model,
    MEMORY_EMBEDDING_MIN_SIMILARITY: "20",
  };
  const rows: BenchRow[] = [];
  try {
    let loaded = 0;
    for (const size of [10_000, 20_000, Math.round(100_000 * Math.max(ctx.scale, 0.2))]) {
      // The server owns the PGlite files while it runs: load between runs, in this process.
      const t = performance.now();
      const db = await createPgliteDb({ dataDir: join(dir, "pgdata") });
      await migrate(db);
      await load(db, loaded, size - loaded);
      await embedAll(db, `openai:${model}`);
      await db.exec("analyze coord.memories");
      await db.close();
      ctx.log(
        `  memory: loaded and embedded ${size} rows on pglite in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      loaded = size;
      for (const fused of [false, true]) {
        const server = await startServer("pglite", undefined, {
          COORDINATOR_DATA_DIR: dir,
          ...(fused ? embedEnv : { MEMORY_EMBEDDINGS: "none" }),
        });
        try {
          if (size === 10_000) {
            const before = embeddings.requests.length;
            rows.push(
              ...(await rememberRows(ctx, "pglite", server.url, undefined, fused ? "remember +embed" : "remember")),
            );
            if (fused) rows[rows.length - 1]!.note = `${embeddings.requests.length - before} embedding requests`;
          }
          rows.push(
            ...(await recallRows(ctx, "pglite", size, server.url, undefined, fused ? "recall fused" : "recall")),
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await embeddings.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Remember throughput and recall latency on each database. */
export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (ctx.adminUrl) rows.push(...(await benchPostgres(ctx)));
  rows.push(...(await benchPglite(ctx)));
  return rows;
}
