/**
 * A small Server-Sent Events reader for tests: parses a response body as the HTML standard's event stream format
 * (fields `id`, `event`, `data`, `retry`; lines starting with `:` are comments) and records everything it saw.
 */

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  /** Milliseconds from opening the reader to this message. */
  at: number;
}

export class SseReader {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  /** True once the server ended the stream (the body finished). */
  ended = false;
  lastEventId: string | null = null;
  #waiters: Array<() => void> = [];
  #done: Promise<void>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly opened = performance.now();

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
    this.#done = this.#pump();
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          this.#block(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // cancelled by close()
    } finally {
      this.ended = true;
      this.#notify();
    }
  }

  #block(block: string): void {
    let event = "message";
    const data: string[] = [];
    let id: string | undefined;
    let hasField = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
      else if (field === "retry") this.retry = Number(value);
      else continue;
      if (field !== "retry") hasField = true;
    }
    if (id !== undefined) this.lastEventId = id;
    // As the standard says: a block without data dispatches nothing (an `id` alone only moves the last event id).
    if (hasField && data.length > 0) {
      this.messages.push({ id, event, data: data.join("\n"), at: performance.now() - this.opened });
    }
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Parsed `data` of every message of kind `event` (or of every message). */
  json(event?: string): any[] {
    return this.messages.filter((m) => event === undefined || m.event === event).map((m) => JSON.parse(m.data));
  }

  /** Waits until `predicate` holds (checked after every message and at the end), or throws after `timeoutMs`. */
  async until(predicate: (r: SseReader) => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.ended) throw new Error(`stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the server to end the stream. */
  async end(timeoutMs = 20_000): Promise<void> {
    await Promise.race([
      this.#done,
      new Promise((_, reject) => setTimeout(() => reject(new Error("stream did not end")), timeoutMs)),
    ]);
  }

  /** Closes the stream from the client side (a disconnect). */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.#done;
  }
}
