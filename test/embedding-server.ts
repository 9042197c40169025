/**
 * A stand-in for an OpenAI-compatible embeddings endpoint (contract: functions-src/memory/embeddings.contract.md):
 * deterministic hashed bag-of-words vectors, so texts that share words are close. It proves wiring and rank fusion,
 * not recall quality. Used by the memory tests and the memory benchmark.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const STAND_IN_DIMENSIONS = 384;

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The hashed bag-of-words vector of a text: each word adds ±1 at its hashed dimension; L2-normalised. */
export function bagOfWords(text: string, dims = STAND_IN_DIMENSIONS): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9_]+/g) ?? []) {
    const h = hash(w);
    v[h % dims]! += h & 0x80000000 ? -1 : 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export interface EmbeddingServerOptions {
  /** Milliseconds before each answer. */
  delayMs?: number;
  /** Width of the vectors answered (a wrong width tests the client's check). */
  dimensions?: number;
}

export interface EmbeddingRequestRecord {
  inputs: number;
  model: string;
  authorization: string | undefined;
  status: number;
}

/** Starts the stand-in on a free loopback port. */
export async function startEmbeddingServer(options: EmbeddingServerOptions = {}) {
  const requests: EmbeddingRequestRecord[] = [];
  const state = { delayMs: options.delayMs ?? 0, dimensions: options.dimensions ?? STAND_IN_DIMENSIONS };
  let failures: Array<{ status: number; retryAfter?: number }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      let body: { model?: string; input?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(400, { error: { message: "body is not JSON" } });
      }
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const record: EmbeddingRequestRecord = {
        inputs: inputs.length,
        model: String(body.model),
        authorization: req.headers.authorization,
        status: 200,
      };
      requests.push(record);
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (req.method !== "POST" || !req.url?.endsWith("/embeddings")) {
        record.status = 404;
        return send(404, { error: { message: "not found" } });
      }
      const failure = failures.shift();
      if (failure) {
        record.status = failure.status;
        return send(
          failure.status,
          { error: { message: `stand-in failure ${failure.status}` } },
          failure.retryAfter !== undefined ? { "retry-after": String(failure.retryAfter) } : {},
        );
      }
      if (!body.model || inputs.some((t) => typeof t !== "string")) {
        record.status = 400;
        return send(400, { error: { message: "model and input (strings) are required" } });
      }
      send(200, {
        object: "list",
        model: body.model,
        data: (inputs as string[]).map((t, index) => ({
          object: "embedding",
          index,
          embedding: bagOfWords(t, state.dimensions),
        })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    state,
    /** The next requests fail with these statuses, in order. */
    failNext(...f: Array<{ status: number; retryAfter?: number }>) {
      failures = [...failures, ...f];
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
