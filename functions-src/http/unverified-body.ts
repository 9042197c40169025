/**
 * Bodies nobody has vouched for yet. A webhook is authenticated by a signature over its raw body, so the body has to
 * be read before anyone knows whether it came from GitHub; GitHub's payloads may reach 25 MB. Left alone, anyone
 * could make the process hold gigabytes by sending many large bodies with a bad signature.
 *
 * So the bytes of unverified bodies in flight share one budget per process. A body reserves its size (its
 * Content-Length, or the route's cap when it has none) before a byte is read, waits its turn when the budget is taken,
 * and is refused with 503 `busy` and Retry-After when its turn does not come in time. It must then arrive within a
 * deadline (a slow sender cannot sit on the budget). It is read into one buffer of its size, and the caller releases
 * the reservation as soon as it is done with the bytes (the signature checked, the text decoded).
 *
 * Released buffers are kept for the next bodies (up to the capacity in all) instead of being left to the garbage
 * collector: under a flood of large bodies the collector lags, and the process would hold several budgets' worth of
 * dead buffers.
 */
import { ApiError } from "./errors.ts";

/**
 * A body read under the budget. `release()` returns its reservation and its buffer: call it once done with `bytes`
 * (after checking the signature and decoding what is kept), and never read `bytes` after it.
 */
export interface UnverifiedBody {
  bytes: Uint8Array;
  release(): void;
}

export interface BodyBudget {
  /** Bytes all unverified bodies in flight may hold together. */
  readonly capacity: number;
  /** Bytes reserved now (tests, status). */
  readonly reserved: number;
  /** Reads a request's body under the budget, refusing above `maxBytes` (413) or when no room comes in time (503). */
  read(req: Request, maxBytes: number): Promise<UnverifiedBody>;
}

export interface BodyBudgetOptions {
  /** How long a body may wait for room before it is refused. */
  waitMs?: number;
  /** How long the whole body may take to arrive once it has room. */
  readMs?: number;
}

const BUSY_RETRY_SECONDS = 5;

export function createBodyBudget(capacity: number, options: BodyBudgetOptions = {}): BodyBudget {
  const waitMs = options.waitMs ?? 10_000;
  const readMs = options.readMs ?? 30_000;
  let reserved = 0;
  const waiters: Array<{ need: number; grant: () => void }> = [];
  // Buffers of released bodies, ready for the next ones; their sizes add up to at most the capacity.
  const spare: Uint8Array[] = [];
  let spareBytes = 0;

  /** A buffer of at least `size` bytes: the smallest spare one that fits (and is not more than twice it), or new. */
  function take(size: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < spare.length; i++) {
      const len = spare[i]!.byteLength;
      if (len >= size && len <= size * 2 && (best < 0 || len < spare[best]!.byteLength)) best = i;
    }
    if (best < 0) return new Uint8Array(size);
    const [buffer] = spare.splice(best, 1);
    spareBytes -= buffer!.byteLength;
    return buffer!;
  }

  function giveBack(buffer: Uint8Array): void {
    while (spare.length && spareBytes + buffer.byteLength > capacity) spareBytes -= spare.shift()!.byteLength;
    if (buffer.byteLength <= capacity) {
      spare.push(buffer);
      spareBytes += buffer.byteLength;
    }
  }

  const wake = () => {
    // First come, first served: a large body at the head is not overtaken by smaller ones forever.
    while (waiters.length && reserved + waiters[0]!.need <= capacity) {
      const w = waiters.shift()!;
      reserved += w.need;
      w.grant();
    }
  };

  async function reserve(need: number): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      reserved -= need;
      wake();
    };
    if (waiters.length === 0 && reserved + need <= capacity) {
      reserved += need;
      return release;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        need,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        wake();
        reject(
          new ApiError(
            503,
            "busy",
            `Too many large unverified bodies are being received; retry in ${BUSY_RETRY_SECONDS} s.`,
            { retry_after_seconds: BUSY_RETRY_SECONDS },
          ),
        );
      }, waitMs);
      waiters.push(waiter);
    });
    return release;
  }

  const tooLarge = (max: number) =>
    new ApiError(413, "body_too_large", `Request body is over ${max} bytes; send less per call.`);

  async function read(req: Request, maxBytes: number): Promise<UnverifiedBody> {
    const header = req.headers.get("content-length");
    const length = header !== null && /^\d{1,15}$/.test(header) ? Number(header) : null;
    if (length !== null && length > maxBytes) throw tooLarge(maxBytes);
    const need = length ?? maxBytes;
    if (need > capacity) throw tooLarge(capacity);
    const unreserve = await reserve(need);
    const buffer = take(need);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      giveBack(buffer);
      unreserve();
    };
    try {
      const bytes = await readInto(req, buffer, need);
      return { bytes, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Reads the body into `buffer`, at most `max` bytes of it; answers the part that was filled. */
  async function readInto(req: Request, buffer: Uint8Array, max: number): Promise<Uint8Array> {
    let filled = 0;
    if (!req.body) return buffer.subarray(0, 0);
    const reader = req.body.getReader();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void reader.cancel().catch(() => {});
    }, readMs);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (filled + value.byteLength > max) throw tooLarge(max);
        buffer.set(value, filled);
        filled += value.byteLength;
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (!timedOut) throw new ApiError(400, "body_incomplete", "The request body ended early; send it again.");
    } finally {
      clearTimeout(timer);
      reader.releaseLock();
    }
    if (timedOut) {
      throw new ApiError(408, "body_timeout", `The request body did not arrive within ${readMs / 1000} s.`);
    }
    return buffer.subarray(0, filled);
  }

  return {
    capacity,
    get reserved() {
      return reserved;
    },
    read,
  };
}
