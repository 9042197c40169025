/**
 * Chaos: a real server process on a private Postgres cluster, ten HTTP clients mixing locks and the work queue, while
 * Postgres is restarted (fast and immediate) and the server's backends are terminated. Each client retries an answer
 * of 503 with the same request, as docs/OPERATIONS.md tells agents to (every mutating operation is safe to retry).
 *
 * The checker: no answer but 2xx, 4xx and 503 (no 500, no dropped connection); every acknowledged write is there
 * (held locks with their tokens, releases, submitted tasks, completions); no task completed twice; and after every
 * fault the clients are served again soon after Postgres accepts connections (the target is 2 s; the ceiling below
 * is generous for a loaded machine, and the measured figures are printed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { DATABASE_URL } from "./helpers.ts";
import { createPrivateCluster, type PrivateCluster } from "./private-cluster.ts";
import { type ServerProcess, startServer } from "./process.ts";

const KEY = "chaos-agent-key-0123456789";
const CLIENTS = 10;
const RECOVERY_CEILING_MS = 15_000;

/** A seeded generator, so a failing run can be told apart from another by its seed (printed). */
function mulberry(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fault {
  kind: "restart fast" | "restart immediate" | "terminate backends";
  /** When Postgres accepted connections again (or, for terminations, when the backends were terminated). */
  readyAt: number;
  recoveredMs?: number;
}

describe.runIf(!!DATABASE_URL)("chaos: restarts and terminated backends under load (private cluster)", () => {
  let cluster: PrivateCluster;
  let server: ServerProcess;

  beforeAll(async () => {
    cluster = createPrivateCluster();
    server = await startServer({
      DATABASE_URL: cluster.url,
      COORDINATION_API_KEYS: KEY,
      COORDINATION_ADMIN_KEYS: undefined,
      DATABASE_POOL_SIZE: "10",
      DATABASE_CONNECT_TIMEOUT: "2",
      COORDINATOR_REQUEST_RATE: "0",
      LOG_LEVEL: "error",
    });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    cluster?.destroy();
  });

  it(`${CLIENTS} clients lose no acknowledged write, complete nothing twice, see no 500, and recover after each fault`, async () => {
    const seed = Date.now() % 100_000;
    const statuses = new Map<string, number>();
    const successes: number[][] = Array.from({ length: CLIENTS }, () => []);
    const unexpected: string[] = [];
    let stop = false;

    const held = new Map<string, { agent: string; token: number }>();
    const released = new Set<string>();
    const submitted = new Map<string, { agent: string; id: string }>();
    const completed = new Map<string, string>();

    /** One request, sent again unchanged while the answer is 503 (or the connection failed). Null: gave up at stop. */
    async function send(c: number, path: string, body: unknown): Promise<{ status: number; body: any } | null> {
      for (;;) {
        let status: number | string;
        let json: any = null;
        try {
          const res = await fetch(`${server.url}${path}`, {
            method: "POST",
            headers: { Authorization: `Bearer ${KEY}`, "X-Agent-Id": `chaos-${c}`, "Content-Type": "application/json" },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(60_000),
          });
          status = res.status;
          json = await res.json().catch(() => null);
          if (status === 503 && !res.headers.get("retry-after")) unexpected.push(`${path}: 503 without Retry-After`);
        } catch (err) {
          status = `network: ${(err as Error).message}`;
        }
        const label =
          typeof status === "number" ? `${Math.floor(status / 100)}xx${status >= 500 ? ` ${status}` : ""}` : status;
        statuses.set(label, (statuses.get(label) ?? 0) + 1);
        if (typeof status === "number" && status < 300) successes[c]!.push(Date.now());
        if (typeof status === "number" && status !== 503) return { status, body: json };
        if (stop) return null;
        await sleep(50);
      }
    }

    async function client(c: number) {
      const rng = mulberry(seed * 31 + c);
      const mine: string[] = [];
      let n = 0;
      while (!stop) {
        const r = rng();
        if (r < 0.35) {
          if (mine.length >= 8 || (mine.length > 0 && rng() < 0.4)) {
            const key = mine.splice(Math.floor(rng() * mine.length), 1)[0]!;
            const res = await send(c, "/locks/release", { file_path: key });
            if (res?.status === 200) {
              // A retry after an unknown outcome finds it already released: not_held, no holder. Either way it is gone.
              held.delete(key);
              released.add(key);
            } else if (res) unexpected.push(`release ${key}: ${res.status} ${JSON.stringify(res.body)}`);
            else mine.push(key);
          } else {
            const key = `chaos/c${c}/k${n++}`;
            const res = await send(c, "/locks/acquire", { file_path: key, ttl_minutes: 480 });
            if (res?.status === 200) {
              held.set(key, { agent: `chaos-${c}`, token: res.body.locks[0].token });
              mine.push(key);
            } else if (res) unexpected.push(`acquire ${key}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        } else if (r < 0.65) {
          const key = `c${c}-t${n++}`;
          const res = await send(c, "/work/tasks", { task_type: "chaos", idempotency_key: key, input_data: { c, n } });
          if (res?.status === 201) submitted.set(key, { agent: `chaos-${c}`, id: res.body.id });
          else if (res) unexpected.push(`submit ${key}: ${res.status} ${JSON.stringify(res.body)}`);
        } else {
          const claim = await send(c, "/work/claim", { task_types: ["chaos"], limit: 1, lease_seconds: 60 });
          const task = claim?.status === 200 ? claim.body.tasks[0] : undefined;
          if (claim && claim.status !== 200) unexpected.push(`claim: ${claim.status} ${JSON.stringify(claim.body)}`);
          if (!task) continue;
          const done = await send(c, `/work/tasks/${task.id}/complete`, {
            claim_token: task.claim_token,
            success: true,
            result: { by: c },
          });
          if (done?.status === 200 && done.body.status === "completed") completed.set(task.id, `chaos-${c}`);
          else if (done) unexpected.push(`complete ${task.id}: ${done.status} ${JSON.stringify(done.body)}`);
        }
      }
    }

    async function terminateBackends() {
      const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
      try {
        await admin`select pg_terminate_backend(pid) from pg_stat_activity
                     where application_name = 'agent-coordinator' and pid <> pg_backend_pid()`;
      } finally {
        await admin.end({ timeout: 5 });
      }
    }

    const faults: Fault[] = [];
    const running = Array.from({ length: CLIENTS }, (_, c) => client(c));
    await sleep(2_000);
    for (const kind of [
      "restart fast",
      "terminate backends",
      "restart immediate",
      "restart fast",
      "terminate backends",
      "restart immediate",
    ] as const) {
      if (kind === "terminate backends") {
        await terminateBackends();
      } else {
        cluster.stop(kind === "restart fast" ? "fast" : "immediate");
        // Down for a moment: clients are answered 503 meanwhile, and keep retrying.
        await sleep(700);
        cluster.start();
      }
      faults.push({ kind, readyAt: Date.now() });
      await sleep(2_500);
    }
    await sleep(1_000);
    stop = true;
    await Promise.all(running);

    // Back to normal: the time from Postgres accepting connections until every client had a request served again.
    for (const f of faults) {
      const firsts = successes.map((s) => s.find((t) => t >= f.readyAt));
      f.recoveredMs = firsts.every((t) => t !== undefined)
        ? Math.max(...firsts.map((t) => t! - f.readyAt))
        : Number.POSITIVE_INFINITY;
    }

    const db = postgres(cluster.url, { max: 2, onnotice: () => {} });
    try {
      const lostLocks: string[] = [];
      for (const [key, g] of held) {
        const [row] = await db`select agent_id, token::text from coord.locks where repo = 'default' and key = ${key}`;
        if (!row || row.agent_id !== g.agent || Number(row.token) !== g.token) lostLocks.push(key);
      }
      const releasedStillThere = (
        await db`select count(*)::int as n from coord.locks where repo = 'default' and key = any(${[...released]})`
      )[0]!.n as number;
      const lostTasks: string[] = [];
      for (const [key, t] of submitted) {
        const rows =
          await db`select id::text from coord.tasks where submitted_by = ${t.agent} and idempotency_key = ${key}`;
        if (rows.length !== 1 || rows[0]!.id !== t.id) lostTasks.push(key);
      }
      const lostCompletions: string[] = [];
      for (const id of completed.keys()) {
        const [row] = await db`select status from coord.tasks where id = ${id}`;
        if (row?.status !== "completed") lostCompletions.push(id);
      }
      const duplicates = await db`
        select subject, count(*)::int as n from coord.events e join coord.tasks t on t.id::text = e.subject
         where e.kind = 'task.completed' and t.task_type = 'chaos' group by subject having count(*) > 1`;
      const completedInDb = (
        await db`select count(*)::int as n from coord.tasks where task_type = 'chaos' and status = 'completed'`
      )[0]!.n as number;

      const report = {
        seed,
        answers: Object.fromEntries([...statuses].sort()),
        acknowledged: {
          locks_held: held.size,
          releases: released.size,
          tasks_submitted: submitted.size,
          completions: completed.size,
          completed_in_db: completedInDb,
        },
        lost: {
          locks: lostLocks.length,
          releases: releasedStillThere,
          tasks: lostTasks.length,
          completions: lostCompletions.length,
        },
        duplicate_completions: duplicates.length,
        recovery_ms: faults.map((f) => `${f.kind}: ${f.recoveredMs}`),
      };
      console.log(`chaos report: ${JSON.stringify(report, null, 2)}`);

      expect(unexpected).toEqual([]);
      expect([...statuses.keys()].filter((s) => !/^[24]xx$|^5xx 503$/.test(s))).toEqual([]);
      expect(statuses.get("5xx 503") ?? 0, "the faults were felt").toBeGreaterThan(0);
      expect(held.size + released.size + submitted.size + completed.size).toBeGreaterThan(100);
      expect(report.lost).toEqual({ locks: 0, releases: 0, tasks: 0, completions: 0 });
      expect(duplicates).toEqual([]);
      for (const f of faults) expect(f.recoveredMs, f.kind).toBeLessThan(RECOVERY_CEILING_MS);
    } finally {
      await db.end({ timeout: 5 });
    }
  }, 600_000);
});
