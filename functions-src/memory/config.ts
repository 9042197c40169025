import { ConfigError, type Env, enumVar, intVar, stringVar } from "../util/env.ts";

export const EMBEDDING_PROVIDERS = ["auto", "supabase", "openai", "none"] as const;

/** Where memory embeddings come from (docs/MEMORY.md, "Embedding providers"). */
export interface EmbeddingConfig {
  /**
   * MEMORY_EMBEDDINGS: `auto` (default) uses Supabase's built-in model where the host has it, else the
   * OpenAI-compatible endpoint when MEMORY_EMBEDDING_URL is set, else none; the others force one.
   */
  provider: (typeof EMBEDDING_PROVIDERS)[number];
  /** MEMORY_EMBEDDING_URL: base URL of an OpenAI-compatible API (`…/v1`; `…/v1/embeddings` is accepted too). */
  url: string | null;
  /** MEMORY_EMBEDDING_MODEL: the model name the endpoint knows; it must answer 384 numbers. */
  model: string | null;
  /** MEMORY_EMBEDDING_API_KEY: sent as a Bearer token when set. Never logged. */
  apiKey: string | null;
  /** MEMORY_EMBEDDING_TIMEOUT_MS: per request to the endpoint (default 10000). */
  timeoutMs: number;
  /** MEMORY_EMBEDDING_BATCH: texts per request (default 32). */
  batchSize: number;
  /** MEMORY_EMBEDDING_RETRIES: retries of a failed request (429, 5xx, network, timeout), with backoff (default 2). */
  retries: number;
  /** MEMORY_EMBEDDING_DIMENSIONS=384: send `dimensions: 384` (OpenAI text-embedding-3 models shorten to it). */
  sendDimensions: boolean;
  /**
   * MEMORY_EMBEDDING_MIN_SIMILARITY: cosine similarity a vector match needs, in percent (scales differ by model:
   * gte-small rates unrelated text near 0.7). Unset: the database setting vector_floor (0.6).
   */
  minSimilarity: number | null;
}

export interface MemoryConfig {
  embeddings: EmbeddingConfig;
}

/** Parses the memory capability's settings from an environment record. */
export function loadMemoryConfig(env: Env): MemoryConfig {
  const provider = enumVar(env, "MEMORY_EMBEDDINGS", EMBEDDING_PROVIDERS, "auto");
  const url = stringVar(env, "MEMORY_EMBEDDING_URL");
  const model = stringVar(env, "MEMORY_EMBEDDING_MODEL");
  if (url !== null && !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError("MEMORY_EMBEDDING_URL must be an http(s) URL, e.g. http://127.0.0.1:11434/v1");
  }
  if (provider === "openai" && url === null) {
    throw new ConfigError("MEMORY_EMBEDDINGS=openai needs MEMORY_EMBEDDING_URL (an OpenAI-compatible /v1 base URL)");
  }
  if (url !== null && model === null && provider !== "none" && provider !== "supabase") {
    throw new ConfigError("MEMORY_EMBEDDING_URL needs MEMORY_EMBEDDING_MODEL (a model that answers 384 numbers)");
  }
  const similarity = env.MEMORY_EMBEDDING_MIN_SIMILARITY?.trim()
    ? intVar(env, "MEMORY_EMBEDDING_MIN_SIMILARITY", 60, 0, 100)
    : null;
  return {
    embeddings: {
      provider,
      url: url?.replace(/\/+$/, "") ?? null,
      model,
      apiKey: stringVar(env, "MEMORY_EMBEDDING_API_KEY"),
      timeoutMs: intVar(env, "MEMORY_EMBEDDING_TIMEOUT_MS", 10_000, 100, 300_000),
      batchSize: intVar(env, "MEMORY_EMBEDDING_BATCH", 32, 1, 2048),
      retries: intVar(env, "MEMORY_EMBEDDING_RETRIES", 2, 0, 10),
      sendDimensions: env.MEMORY_EMBEDDING_DIMENSIONS?.trim()
        ? enumVar(env, "MEMORY_EMBEDDING_DIMENSIONS", ["384"], "384") === "384"
        : false,
      minSimilarity: similarity === null ? null : similarity / 100,
    },
  };
}
