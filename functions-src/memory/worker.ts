/**
 * The memory capability's per-app state: the embedding provider, the work it does past a response (embedding new
 * memories after `remember` has answered), the backfill the upkeep runs, and query embeddings for `recall`.
 */
import { callJson, type Db } from "../db/port.ts";
import type { Logger } from "../http/log.ts";
import type { EmbeddingConfig } from "./config.ts";
import { createEmbedder, type Embedder } from "./embeddings.ts";

/** What coordinator://status says about memory's vectors. */
export interface EmbeddingStatus {
  /** The active provider's model (`supabase:gte-small`, `openai:MODEL`), or `none`. */
  provider: string;
  /** `available`: pgvector stores vectors; `unavailable`: it does not, and recall is lexical only. */
  vector: "available" | "unavailable";
  /** Memories with a vector of the active model, and memories still waiting for one (the upkeep backfills them). */
  embedded?: number;
  pending?: number;
  note?: string;
}

const QUERY_CACHE = 256;
/** Query embeddings wait at most this long: recall answers lexically rather than late. */
const QUERY_TIMEOUT_MS = 3000;

export class MemoryWorker {
  readonly embedder: Embedder | null;
  private hasVector: Promise<boolean> | null = null;
  private readonly queue = new Set<number>();
  private flushing = false;
  private readonly background = new Set<Promise<void>>();
  private readonly queries = new Map<string, number[]>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    readonly config: EmbeddingConfig,
    fetchFn: typeof fetch,
    runtime: object = globalThis,
  ) {
    this.embedder = createEmbedder(config, fetchFn, runtime);
  }

  /** Whether the database stores vectors (asked once; pgvector comes with a migration, not at run time). */
  vectorStore(): Promise<boolean> {
    this.hasVector ??= this.db
      .query<{ v: boolean }>("select coord.memory_has_vector() as v")
      .then((r) => r[0]!.v)
      .catch((err) => {
        this.hasVector = null; // the database may be back later: ask again then
        throw err;
      });
    return this.hasVector;
  }

  /** Whether new memories get vectors: a provider and a store for them. */
  async active(): Promise<boolean> {
    return this.embedder !== null && (await this.vectorStore());
  }

  /** Runs work past the response that started it; failures are logged, `settled()` waits for it. */
  track(work: Promise<void>): Promise<void> {
    const p = work
      .catch((err) => this.log.warn("memory: background embedding failed", { error: (err as Error).message }))
      .finally(() => this.background.delete(p));
    this.background.add(p);
    // Keep an edge isolate alive until the work is done (Supabase Edge Functions); elsewhere the promise runs on.
    (globalThis as { EdgeRuntime?: { waitUntil(p: Promise<unknown>): void } }).EdgeRuntime?.waitUntil(p);
    return p;
  }

  /** Resolves once no background work is left (tests; a host draining before exit). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  /**
   * Embeds a stored memory after the answer: ids queue up while a request is in flight, so concurrent writers share
   * batches. A failure leaves the memory without a vector for the upkeep's backfill.
   */
  enqueue(id: number): void {
    if (!this.embedder) return;
    this.queue.add(id);
    this.kick();
  }

  /** One flush at a time; ids queued while it ends start the next (inside the tracked work, so settled() waits). */
  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.track(
      this.flush().finally(() => {
        this.flushing = false;
        if (this.queue.size) this.kick();
      }),
    );
  }

  private async flush(): Promise<void> {
    if (!(await this.active())) {
      this.queue.clear();
      return;
    }
    while (this.queue.size) {
      const ids = [...this.queue].slice(0, this.config.batchSize);
      for (const id of ids) this.queue.delete(id);
      await this.embedPending(ids.length, ids);
    }
  }

  /** Embeds up to `limit` memories that need a vector (or just `ids`); answers how many were stored. */
  private async embedPending(limit: number, ids: number[] | null = null): Promise<number> {
    const embedder = this.embedder!;
    const pending = await callJson<{ vector: boolean; memories: Array<{ id: number; text: string }> }>(
      this.db,
      "coord.pending_embeddings",
      [embedder.model, limit, ids],
    );
    if (!pending.vector || pending.memories.length === 0) return 0;
    const vectors = await embedder.embed(pending.memories.map((m) => m.text));
    const r = await callJson<{ stored: number }>(this.db, "coord.store_embeddings", [
      embedder.model,
      pending.memories.map((m, i) => ({ id: m.id, embedding: vectors[i] })),
    ]);
    return r.stored;
  }

  /**
   * The upkeep's backfill: memories stored while the provider was down, before it was configured, or embedded by
   * another model. Bounded per run (`max`), so a large backlog is worked off over several runs.
   */
  async backfill(max = 2000): Promise<{ embedded: number; provider: string } | null> {
    if (!this.embedder || !(await this.vectorStore())) return null;
    let embedded = 0;
    while (embedded < max) {
      const n = await this.embedPending(Math.min(this.config.batchSize, max - embedded));
      if (n === 0) break;
      embedded += n;
    }
    return { embedded, provider: this.embedder.model };
  }

  /**
   * The query's vector for recall, or null: no provider, no vector store, or the provider failed or was slow (recall
   * then ranks lexically). Recent queries are cached: agents repeat them.
   */
  async queryEmbedding(text: string): Promise<number[] | null> {
    if (!(await this.active())) return null;
    const cached = this.queries.get(text);
    if (cached) return cached;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((r) => {
        timer = setTimeout(() => r(null), Math.min(QUERY_TIMEOUT_MS, this.config.timeoutMs));
      });
      const v = await Promise.race([this.embedder!.embed([text]).then((r) => r[0]!), timeout]).finally(() =>
        clearTimeout(timer),
      );
      if (!v) return null;
      if (this.queries.size >= QUERY_CACHE) this.queries.delete(this.queries.keys().next().value!);
      this.queries.set(text, v);
      return v;
    } catch (err) {
      this.log.warn("memory: query embedding failed; recall is lexical", { error: (err as Error).message });
      return null;
    }
  }

  /** For coordinator://status. */
  async status(): Promise<EmbeddingStatus> {
    const model = this.embedder?.model ?? "none";
    const s = await callJson<{ vector: boolean; embedded?: number; pending?: number }>(
      this.db,
      "coord.embedding_status",
      [this.embedder?.model ?? null],
    );
    if (!s.vector) {
      return {
        provider: model,
        vector: "unavailable",
        note: "the database has no pgvector: recall is lexical only and no embeddings are computed",
      };
    }
    const out: EmbeddingStatus = { provider: model, vector: "available", embedded: s.embedded ?? 0 };
    if (this.embedder) out.pending = s.pending ?? 0;
    else {
      out.note =
        this.config.provider === "supabase"
          ? "MEMORY_EMBEDDINGS=supabase, but this host has no Supabase.ai: recall is lexical (and uses caller-supplied vectors)"
          : "no embedding provider configured: recall is lexical (and uses caller-supplied vectors)";
    }
    return out;
  }
}
