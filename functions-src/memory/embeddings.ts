/**
 * Embedding providers behind one small interface: Supabase's built-in `gte-small` on the edge host, any
 * OpenAI-compatible `/v1/embeddings` endpoint (wire contract in embeddings.contract.md), or none.
 */
import type { EmbeddingConfig } from "./config.ts";
import { EMBEDDING_DIMENSIONS } from "./schemas.ts";

/** Turns texts into 384-number vectors, one per text, in order. */
export interface Embedder {
  /** `supabase:gte-small`, `openai:MODEL`: stored with each vector, so vectors of different models never mix. */
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
}

/** The endpoint failed for good (after retries, or with an answer no retry can fix). The message names no secret. */
export class EmbeddingError extends Error {
  override name = "EmbeddingError";
}

/** What Supabase's edge runtime offers as `globalThis.Supabase.ai` (https://supabase.com/docs/guides/ai/quickstarts/generate-text-embeddings). */
interface SupabaseAi {
  Session: new (
    model: string,
  ) => { run(input: string, options: { mean_pool: boolean; normalize: boolean }): Promise<unknown> };
}

/** The host's built-in AI, when there is one (feature check, no import: only the edge runtime defines it). */
export function supabaseAi(runtime: object = globalThis): SupabaseAi | null {
  const ai = (runtime as { Supabase?: { ai?: SupabaseAi } }).Supabase?.ai;
  return ai && typeof ai.Session === "function" ? ai : null;
}

function checkVector(v: unknown, source: string): number[] {
  if (
    !Array.isArray(v) ||
    v.length !== EMBEDDING_DIMENSIONS ||
    !v.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    const width = Array.isArray(v) ? v.length : typeof v;
    throw new EmbeddingError(
      `${source} answered an embedding of ${width} numbers; the store takes ${EMBEDDING_DIMENSIONS}`,
    );
  }
  return v as number[];
}

/** Supabase's `gte-small` (384 dimensions, mean-pooled and normalised), one text per run. */
export class SupabaseEmbedder implements Embedder {
  readonly model = "supabase:gte-small";
  private readonly session: ReturnType<SupabaseEmbedder["open"]>;

  constructor(ai: SupabaseAi) {
    this.session = this.open(ai);
  }

  private open(ai: SupabaseAi) {
    return new ai.Session("gte-small");
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (const t of texts) {
      out.push(checkVector(await this.session.run(t, { mean_pool: true, normalize: true }), "Supabase.ai gte-small"));
    }
    return out;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An OpenAI-compatible endpoint (OpenAI, Ollama, LM Studio, vLLM, llama.cpp server, …): batches of
 * `batchSize` texts per request, each request with a timeout, retried on 429, 5xx, network errors and timeouts with
 * exponential backoff (honouring Retry-After up to 10 s). Other 4xx answers fail at once: retrying cannot fix them.
 */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  private readonly endpoint: string;

  constructor(
    private readonly config: EmbeddingConfig & { url: string; model: string },
    private readonly fetchFn: typeof fetch,
    /** Backoff base in milliseconds (tests shorten it). */
    private readonly backoffMs = 250,
  ) {
    this.model = `openai:${config.model}`;
    this.endpoint = config.url.endsWith("/embeddings") ? config.url : `${config.url}/embeddings`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.config.batchSize) {
      out.push(...(await this.request(texts.slice(i, i + this.config.batchSize))));
    }
    return out;
  }

  private async request(input: string[]): Promise<number[][]> {
    const body = JSON.stringify({
      model: this.config.model,
      input,
      encoding_format: "float",
      ...(this.config.sendDimensions ? { dimensions: EMBEDDING_DIMENSIONS } : {}),
    });
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    let last = "";
    for (let attempt = 0; attempt <= this.config.retries; attempt++) {
      let retryAfterMs = 0;
      try {
        const res = await this.fetchFn(this.endpoint, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(this.config.timeoutMs),
        });
        if (res.ok) return this.parse(await res.json(), input.length);
        const text = (await res.text().catch(() => "")).slice(0, 200);
        last = `HTTP ${res.status}${text ? `: ${text}` : ""}`;
        if (res.status !== 429 && res.status < 500) throw new EmbeddingError(`embedding endpoint refused: ${last}`);
        retryAfterMs = Math.min(10_000, Number(res.headers.get("retry-after") ?? 0) * 1000 || 0);
      } catch (err) {
        if (err instanceof EmbeddingError) throw err;
        const e = err as Error;
        last =
          e.name === "TimeoutError" || e.name === "AbortError"
            ? `no answer within ${this.config.timeoutMs} ms`
            : e.message;
      }
      if (attempt < this.config.retries) {
        await sleep(Math.max(retryAfterMs, this.backoffMs * 2 ** attempt * (0.75 + Math.random() / 2)));
      }
    }
    throw new EmbeddingError(`embedding endpoint failed after ${this.config.retries + 1} attempts: ${last}`);
  }

  private parse(json: unknown, expected: number): number[][] {
    const data = (json as { data?: Array<{ index?: number; embedding?: unknown }> })?.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new EmbeddingError(
        `embedding endpoint answered ${Array.isArray(data) ? data.length : "no"} embeddings for ${expected} texts`,
      );
    }
    const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return sorted.map((d) => checkVector(d.embedding, "the embedding endpoint"));
  }
}

/**
 * The configured provider, or null for none. `auto` prefers the host's built-in model (Supabase Edge), then the
 * endpoint when one is configured.
 */
export function createEmbedder(
  config: EmbeddingConfig,
  fetchFn: typeof fetch,
  runtime: object = globalThis,
): Embedder | null {
  if (config.provider === "none") return null;
  const ai = supabaseAi(runtime);
  if ((config.provider === "supabase" || config.provider === "auto") && ai) return new SupabaseEmbedder(ai);
  if ((config.provider === "openai" || config.provider === "auto") && config.url && config.model) {
    return new OpenAiEmbedder({ ...config, url: config.url, model: config.model }, fetchFn);
  }
  return null;
}
