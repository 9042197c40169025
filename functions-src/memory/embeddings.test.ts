/**
 * Embedding providers: the OpenAI-compatible client against a local stand-in speaking that API
 * (embeddings.contract.md) — batching, timeouts, retries, refusals, wrong widths; Supabase's built-in model behind
 * its feature check, with a stand-in `Supabase.ai`; and the whole path through the app on both databases — embedding
 * after `remember` has answered, rank fusion in `recall`, the upkeep's backfill, and the status resource. The
 * stand-in's hashed bag-of-words vectors prove wiring and fusion only; no recall figure rests on them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bagOfWords, startEmbeddingServer } from "../../test/embedding-server.ts";
import { agentHeaders, adminHeaders, forEachDatabase, silentLog, testApp } from "../../test/helpers.ts";
import { runMaintenance } from "../../scripts/host/maintenance.ts";
import { ConfigError } from "../util/env.ts";
import { loadMemoryConfig } from "./config.ts";
import { createEmbedder, EmbeddingError, OpenAiEmbedder, supabaseAi } from "./embeddings.ts";
import { memoryCapability } from "./capability.ts";
import { MemoryWorker } from "./worker.ts";

type Json = Record<string, any>;
const MODEL = "stand-in-bow";

describe("memory configuration", () => {
  it("defaults to auto with no endpoint, and parses an endpoint's settings", () => {
    expect(loadMemoryConfig({}).embeddings).toMatchObject({ provider: "auto", url: null, batchSize: 32, retries: 2 });
    const c = loadMemoryConfig({
      MEMORY_EMBEDDING_URL: "http://127.0.0.1:11434/v1/",
      MEMORY_EMBEDDING_MODEL: "all-minilm",
      MEMORY_EMBEDDING_API_KEY: "k",
      MEMORY_EMBEDDING_TIMEOUT_MS: "500",
      MEMORY_EMBEDDING_BATCH: "8",
      MEMORY_EMBEDDING_MIN_SIMILARITY: "75",
    }).embeddings;
    expect(c).toMatchObject({ url: "http://127.0.0.1:11434/v1", model: "all-minilm", timeoutMs: 500, batchSize: 8 });
    expect(c.minSimilarity).toBe(0.75);
  });

  it("refuses settings that cannot work, naming the variable", () => {
    expect(() => loadMemoryConfig({ MEMORY_EMBEDDINGS: "openai" })).toThrow(/MEMORY_EMBEDDING_URL/);
    expect(() => loadMemoryConfig({ MEMORY_EMBEDDING_URL: "http://x/v1" })).toThrow(/MEMORY_EMBEDDING_MODEL/);
    expect(() => loadMemoryConfig({ MEMORY_EMBEDDING_URL: "ftp://x" })).toThrow(ConfigError);
    expect(() => loadMemoryConfig({ MEMORY_EMBEDDINGS: "magic" })).toThrow(/MEMORY_EMBEDDINGS/);
  });
});

describe("OpenAI-compatible embeddings (local stand-in)", () => {
  let server: Awaited<ReturnType<typeof startEmbeddingServer>>;
  beforeAll(async () => {
    server = await startEmbeddingServer();
  });
  afterAll(() => server.close());

  const client = (over: Partial<Parameters<typeof loadMemoryConfig>[0]> = {}) => {
    const config = loadMemoryConfig({
      MEMORY_EMBEDDING_URL: server.url,
      MEMORY_EMBEDDING_MODEL: MODEL,
      MEMORY_EMBEDDING_API_KEY: "embed-key",
      ...over,
    }).embeddings;
    return new OpenAiEmbedder({ ...config, url: config.url!, model: config.model! }, fetch, 5);
  };

  it("sends batches of MEMORY_EMBEDDING_BATCH texts with the key, and answers vectors in input order", async () => {
    server.requests.length = 0;
    const texts = ["alpha one", "beta two", "gamma three", "delta four", "epsilon five", "zeta six", "eta seven"];
    const vectors = await client({ MEMORY_EMBEDDING_BATCH: "3" }).embed(texts);
    expect(server.requests.map((r) => r.inputs)).toEqual([3, 3, 1]);
    expect(server.requests[0]).toMatchObject({ model: MODEL, authorization: "Bearer embed-key" });
    expect(vectors).toEqual(texts.map((t) => bagOfWords(t)));
  });

  it("retries 5xx and 429 (with Retry-After) and then succeeds", async () => {
    server.requests.length = 0;
    server.failNext({ status: 503 }, { status: 429, retryAfter: 0 });
    const [v] = await client().embed(["retried text"]);
    expect(v).toHaveLength(384);
    expect(server.requests.map((r) => r.status)).toEqual([503, 429, 200]);
  });

  it("gives up after the configured retries, and fails a refusal (4xx) at once", async () => {
    server.requests.length = 0;
    server.failNext({ status: 500 }, { status: 500 });
    await expect(client({ MEMORY_EMBEDDING_RETRIES: "1" }).embed(["x"])).rejects.toThrow(/after 2 attempts: HTTP 500/);
    expect(server.requests).toHaveLength(2);
    server.requests.length = 0;
    server.failNext({ status: 401 });
    await expect(client().embed(["x"])).rejects.toThrow(/refused: HTTP 401/);
    expect(server.requests).toHaveLength(1);
  });

  it("times out a slow endpoint (and retries it)", async () => {
    server.requests.length = 0;
    server.state.delayMs = 400;
    try {
      await expect(
        client({ MEMORY_EMBEDDING_TIMEOUT_MS: "100", MEMORY_EMBEDDING_RETRIES: "1" }).embed(["slow"]),
      ).rejects.toThrow(/no answer within 100 ms/);
      expect(server.requests).toHaveLength(2);
    } finally {
      server.state.delayMs = 0;
    }
  });

  it("refuses vectors of the wrong width", async () => {
    server.state.dimensions = 768;
    try {
      await expect(client().embed(["wide"])).rejects.toThrow(EmbeddingError);
      await expect(client().embed(["wide"])).rejects.toThrow(/768 numbers; the store takes 384/);
    } finally {
      server.state.dimensions = 384;
    }
  });
});

describe("Supabase's built-in model (feature check)", () => {
  /** Stands in for the edge runtime's `globalThis.Supabase.ai` (same shape: new Session(model).run(text, opts)). */
  const runtime = (calls: Json[]) => ({
    Supabase: {
      ai: {
        Session: class {
          constructor(readonly model: string) {}
          async run(input: string, options: Json) {
            calls.push({ model: this.model, input, options });
            return bagOfWords(input);
          }
        },
      },
    },
  });

  it("is used when globalThis.Supabase.ai exists (auto or supabase), and not otherwise", async () => {
    const calls: Json[] = [];
    const config = loadMemoryConfig({}).embeddings;
    const e = createEmbedder(config, fetch, runtime(calls))!;
    expect(e.model).toBe("supabase:gte-small");
    expect(await e.embed(["a b", "c"])).toEqual([bagOfWords("a b"), bagOfWords("c")]);
    expect(calls[0]).toEqual({ model: "gte-small", input: "a b", options: { mean_pool: true, normalize: true } });
    expect(supabaseAi({})).toBeNull();
    expect(createEmbedder(config, fetch, {})).toBeNull();
    expect(createEmbedder(loadMemoryConfig({ MEMORY_EMBEDDINGS: "supabase" }).embeddings, fetch, {})).toBeNull();
    expect(createEmbedder(loadMemoryConfig({ MEMORY_EMBEDDINGS: "none" }).embeddings, fetch, runtime([]))).toBeNull();
  });

  it("keeps an edge isolate alive for work past the answer (EdgeRuntime.waitUntil)", async () => {
    const waited: Array<Promise<unknown>> = [];
    const g = globalThis as { EdgeRuntime?: unknown };
    g.EdgeRuntime = { waitUntil: (p: Promise<unknown>) => waited.push(p) };
    try {
      const worker = new MemoryWorker(
        { kind: "postgres" } as never,
        silentLog,
        loadMemoryConfig({}).embeddings,
        fetch,
        runtime([]),
      );
      const p = worker.track(Promise.resolve());
      expect(waited).toEqual([p]);
      await worker.settled();
    } finally {
      delete g.EdgeRuntime;
    }
  });
});

forEachDatabase("memory embeddings through the app", (get) => {
  let server: Awaited<ReturnType<typeof startEmbeddingServer>>;
  let built: ReturnType<typeof testApp>;
  const worker = () => built.app.deps.state(memoryCapability);
  beforeAll(async () => {
    server = await startEmbeddingServer();
    built = testApp(get().db, {
      env: {
        MEMORY_EMBEDDING_URL: server.url,
        MEMORY_EMBEDDING_MODEL: MODEL,
        MEMORY_EMBEDDING_RETRIES: "0",
        // Hashed bag-of-words similarities are low; a real model would use a higher floor.
        MEMORY_EMBEDDING_MIN_SIMILARITY: "15",
      },
    });
  });
  afterAll(() => server.close());

  const post = async (path: string, body: unknown, headers = agentHeaders("embed-agent")) => {
    const res = await built.app.request(path, { method: "POST", headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const vectorRows = async (ids: number[]) =>
    (await worker().vectorStore())
      ? get().db.query<{ id: number; model: string | null; has: boolean }>(
          "select id, embedding_model as model, embedding is not null as has from coord.memories where id = any($1) order by id",
          [ids],
        )
      : [];

  it("remember answers before the embedding is done; the vector follows in the background", async () => {
    server.state.delayMs = 300;
    server.requests.length = 0;
    try {
      const r = await post("/memory", {
        summary: "Checkout flow rounds totals to cents before tax",
        tags: ["checkout"],
      });
      expect(r.status).toBe(201);
      const hasVector = await worker().vectorStore();
      if (hasVector) {
        // The stand-in is still sleeping on the request when the answer is here.
        expect((await vectorRows([r.body.id]))[0]!.has).toBe(false);
      }
      await worker().settled();
      if (hasVector) {
        expect(await vectorRows([r.body.id])).toEqual([{ id: r.body.id, model: `openai:${MODEL}`, has: true }]);
        expect(server.requests.length).toBeGreaterThanOrEqual(1);
      } else {
        // Postgres without pgvector: nothing to store, so nothing is computed.
        expect(server.requests).toHaveLength(0);
      }
    } finally {
      server.state.delayMs = 0;
    }
  });

  it("concurrent writers share batches", async () => {
    if (!(await worker().vectorStore())) return; // no vectors on this database: the previous test covers the fallback
    server.state.delayMs = 100;
    server.requests.length = 0;
    try {
      const ids = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          post("/memory", { summary: `Batch memory ${i}: invoice exporter retries webhook ${i}` }).then(
            (r) => r.body.id,
          ),
        ),
      );
      await worker().settled();
      expect((await vectorRows(ids)).every((r) => r.has)).toBe(true);
      expect(server.requests.length).toBeLessThan(12);
    } finally {
      server.state.delayMs = 0;
    }
  });

  it("recall fuses vector and lexical ranks; a vector-only match joins, a no-match query stays empty", async () => {
    const both = await post("/memory", { summary: "Playwright login spec waits for dashboard navigation" });
    const vectorOnly = await post("/memory", { summary: "The dashboard sidebar collapses on small screens" });
    await worker().settled();
    const r = await post("/memory/recall", { task_description: "playwright login dashboard navigation timeout" });
    expect(r.status).toBe(200);
    const ids = r.body.results.map((x: Json) => x.id);
    if (await worker().vectorStore()) {
      expect(r.body.vector).toBe("on");
      expect(ids[0]).toBe(both.body.id);
      expect(r.body.results[0].why).toMatch(/terms: .*; embedding 0\.\d+/);
      // Shares one word ("dashboard"): under the lexical floor, above the vector floor.
      expect(ids).toContain(vectorOnly.body.id);
      expect(r.body.results.find((x: Json) => x.id === vectorOnly.body.id).why).toMatch(/^embedding 0\.\d+$/);
    } else {
      expect(r.body.vector).toBe("unavailable");
      expect(ids[0]).toBe(both.body.id);
      expect(ids).not.toContain(vectorOnly.body.id);
    }
    const none = await post("/memory/recall", { task_description: "kubernetes horizontal pod autoscaler thresholds" });
    expect(none.body.results).toEqual([]);
  });

  it("the upkeep backfills memories the provider missed, and the status resource counts them", async () => {
    server.failNext({ status: 503 });
    const missed = await post("/memory", { summary: "Search indexer drops accents before tokenising" });
    await worker().settled();
    const status = async () => {
      const res = await built.app.request("/status", { headers: agentHeaders("embed-agent") });
      return ((await res.json()) as Json).memory.embeddings;
    };
    if (!(await worker().vectorStore())) {
      expect(await status()).toMatchObject({ provider: `openai:${MODEL}`, vector: "unavailable" });
      const report = await runMaintenance(built.app);
      expect(report.memory).not.toHaveProperty("embedded");
      return;
    }
    expect((await vectorRows([missed.body.id]))[0]!.has).toBe(false);
    expect(await status()).toMatchObject({ provider: `openai:${MODEL}`, vector: "available", pending: 1 });
    const report = (await runMaintenance(built.app)) as Json;
    expect(report.memory).toMatchObject({ embedded: 1 });
    expect((await vectorRows([missed.body.id]))[0]!.has).toBe(true);
    expect(await status()).toMatchObject({ vector: "available", pending: 0 });
    // The operator route runs the same upkeep.
    const again = await post("/memory/retention", {}, adminHeaders());
    expect(again.body).toMatchObject({ embedded: 0 });
  });
});
