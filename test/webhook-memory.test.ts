/**
 * F5: bodies with a bad signature cannot make the server hold memory. A real server process (`npm start` on PGlite)
 * receives 40 concurrent 24 MB webhook bodies signed with the wrong key; its resident memory, sampled throughout,
 * must not grow by 100 MB (before the byte budget it grew by ~900 MB and kept ~600 MB).
 */
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rssBytes, type ServerProcess, startServer } from "./process.ts";

const BODY_BYTES = 24 * 1024 * 1024;
const CONCURRENT = 40;

/** POSTs `body` with Content-Length; resolves with the status and the Retry-After header. */
function post(url: string, body: Buffer, headers: Record<string, string>) {
  return new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    const req = request(
      `${url}/webhook/github`,
      { method: "POST", headers: { ...headers, "Content-Length": String(body.length) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string }));
      },
    );
    // The server answers a refusal before the whole body is sent and closes the connection: the answer counts, the
    // failed write of the rest does not.
    let answered = false;
    req.on("response", () => (answered = true));
    req.on("error", (err) => (answered ? undefined : reject(err)));
    req.end(body);
  });
}

describe("webhook bodies with a bad signature (real server process)", () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coord-webhook-mem-"));
    server = await startServer({
      COORDINATOR_DATA_DIR: dataDir,
      DATABASE_URL: undefined,
      COORDINATION_API_KEYS: "webhook-memory-test-key-0123",
      COORDINATION_ADMIN_KEYS: undefined,
      GITHUB_WEBHOOK_SECRET: "webhook-memory-test-secret",
    });
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`${CONCURRENT} concurrent 24 MB bodies raise the process's RSS by less than 100 MB, and none is accepted`, async () => {
    const body = Buffer.alloc(BODY_BYTES, "x");
    const headers = {
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
      "X-GitHub-Delivery": "memory-test",
      "X-Hub-Signature-256": `sha256=${"0".repeat(64)}`,
    };
    // Warm up the route, so what is measured is the bodies, not the first request's code paths.
    expect((await post(server.url, Buffer.from("{}"), headers)).status).toBe(401);
    const baseline = rssBytes(server.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(server.pid));
      } catch {
        /* exited */
      }
    }, 10);
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => post(server.url, body, headers)));
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(server.pid));
    const grewMb = (peak - baseline) / 2 ** 20;
    const counts: Record<number, number> = {};
    for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
    console.log(
      `webhook memory: baseline ${(baseline / 2 ** 20).toFixed(0)} MB, peak +${grewMb.toFixed(1)} MB, ` +
        `after +${((rssBytes(server.pid) - baseline) / 2 ** 20).toFixed(1)} MB; answers ${JSON.stringify(counts)}`,
    );
    // Each body is refused: 401 once read and checked, or 503 busy (with Retry-After) when it waited too long.
    for (const a of answers) {
      expect([401, 503]).toContain(a.status);
      if (a.status === 503) expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    expect(counts[401]).toBeGreaterThan(0);
    expect(grewMb).toBeLessThan(100);
  }, 300_000);
});
