import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.ts";
import { createBodyBudget } from "./unverified-body.ts";

const req = (bytes: number, withLength = true) =>
  new Request("http://x/webhook", {
    method: "POST",
    body: new Uint8Array(bytes),
    headers: withLength ? { "content-length": String(bytes) } : {},
  });

/** A request whose body sends one chunk and then never ends. */
function stalled(): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10));
    },
  });
  return new Request("http://x/webhook", { method: "POST", body, duplex: "half" } as RequestInit);
}

describe("the byte budget of unverified bodies", () => {
  it("reads within the budget and frees the reservation on release", async () => {
    const budget = createBodyBudget(100);
    const a = await budget.read(req(60), 1000);
    expect(a.bytes.byteLength).toBe(60);
    expect(budget.reserved).toBe(60);
    a.release();
    a.release();
    expect(budget.reserved).toBe(0);
  });

  it("reuses the buffer of a released body for the next one of a similar size", async () => {
    const budget = createBodyBudget(100);
    const a = await budget.read(req(60), 1000);
    const first = a.bytes.buffer;
    a.release();
    const b = await budget.read(req(50), 1000);
    expect(b.bytes.buffer).toBe(first);
    expect(b.bytes.byteLength).toBe(50);
    b.release();
    // Far smaller: a buffer of its own, not a large spare one.
    const c = await budget.read(req(10), 1000);
    expect(c.bytes.buffer).not.toBe(first);
    c.release();
  });

  it("makes a body wait for room, first come first served", async () => {
    const budget = createBodyBudget(100, { waitMs: 5_000 });
    const first = await budget.read(req(80), 1000);
    const order: string[] = [];
    const track = (name: string) => (b: Awaited<ReturnType<typeof budget.read>>) => {
      order.push(name);
      return b;
    };
    const second = budget.read(req(50), 1000).then(track("second"));
    const third = budget.read(req(10), 1000).then(track("third"));
    await new Promise((r) => setTimeout(r, 50));
    // The small third body fits beside the first, but waits its turn behind the second.
    expect(order).toEqual([]);
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(["second", "third"]);
    expect(budget.reserved).toBe(0);
  });

  it("refuses with 503 busy and a retry time when no room comes in time", async () => {
    const budget = createBodyBudget(100, { waitMs: 100 });
    const held = await budget.read(req(80), 1000);
    const refused = await budget.read(req(90), 1000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, code: "busy", details: { retry_after_seconds: 5 } });
    held.release();
    expect(budget.reserved).toBe(0);
  });

  it("refuses a body over the route's cap (413) before reading it, and one without a length by what arrives", async () => {
    const budget = createBodyBudget(1000);
    await expect(budget.read(req(200), 100)).rejects.toMatchObject({ status: 413 });
    await expect(budget.read(req(200, false), 100)).rejects.toMatchObject({ status: 413 });
    expect(budget.reserved).toBe(0);
    const ok = await budget.read(req(50, false), 100);
    expect(ok.bytes.byteLength).toBe(50);
    ok.release();
  });

  it("drops a body that does not arrive in time (408) and frees its room", async () => {
    const budget = createBodyBudget(1000, { readMs: 200 });
    await expect(budget.read(stalled(), 100)).rejects.toMatchObject({ status: 408, code: "body_timeout" });
    expect(budget.reserved).toBe(0);
  });
});
