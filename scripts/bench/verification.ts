/**
 * Verification gateway rows: webhook ingest latency (signature check → delivery stored, answered before processing)
 * and routing time for a 10,000-file change, in process and through POST /webhook/agent.
 */
import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";
import { callJson } from "../../functions-src/db/port.ts";
import { createPgliteDb } from "../host/pglite.ts";
import { migrate } from "../host/migrate.ts";
import { CompiledPolicies, type ChangedFile, type Policy } from "../../functions-src/verification/routing.ts";
import {
  benchDatabase,
  benchHeaders,
  httpClient,
  row,
  runLoad,
  startServer,
  type BenchContext,
  type BenchRow,
} from "./harness.ts";

const SECRET = "bench-webhook-secret-0123456789";
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as Array<{
  name: string;
  examples: Array<Record<string, any>>;
}>;
// A real delivery that is stored, answered, then processed (matched against changesets: none), so the row measures
// ingest and the processing that follows competes with it, as in production.
const RUN_COMPLETED = examples.find((e) => e.name === "workflow_run")!.examples.find((e) => e.action === "completed")!;
RUN_COMPLETED.workflow_run.path = ".github/workflows/verify.yml";

function tenThousandFiles(): ChangedFile[] {
  const exts = ["ts", "md", "sql", "json", "py", "yml", "go", "txt"];
  return Array.from({ length: 10_000 }, (_, i) => ({
    path: `pkg${i % 40}/src/dir${i % 300}/module${i}/file${i}.${exts[i % exts.length]}`,
    status: i % 17 === 0 ? "removed" : "modified",
  }));
}

async function routingRows(ctx: BenchContext): Promise<BenchRow[]> {
  const db = await createPgliteDb();
  try {
    await migrate(db);
    const p = await callJson<{ version: string; policies: Policy[] }>(db, "coord.routing_policies");
    const compileStart = performance.now();
    const policies = new CompiledPolicies(p.version, p.policies);
    const compileMs = performance.now() - compileStart;
    const files = tenThousandFiles();
    const r = await runLoad(1, async () => policies.route(files), { durationMs: 2000 * ctx.scale, warmupMs: 200 });
    return [
      row("route 10,000 files (compiled globs)", "in-process", "-", 1, r, {
        note: `compile ${compileMs.toFixed(1)} ms once; aim < 100 ms`,
      }),
    ];
  } finally {
    await db.close();
  }
}

export async function bench(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = await routingRows(ctx);
  const targets: Array<"postgres" | "pglite"> = ctx.adminUrl ? ["postgres", "pglite"] : ["pglite"];
  for (const kind of targets) {
    const database = kind === "postgres" ? await benchDatabase(ctx.adminUrl!) : undefined;
    const server = await startServer(kind, database?.url, { GITHUB_WEBHOOK_SECRET: SECRET });
    const client = httpClient(server.url);
    try {
      const body = JSON.stringify(RUN_COMPLETED);
      const signature = await sign(SECRET, body);
      let n = 0;
      const deliver = async () => {
        const res = await client.call("POST", "/webhook/github", RUN_COMPLETED, {
          "x-github-event": "workflow_run",
          "x-github-delivery": `bench-${kind}-${++n}-${Date.now()}`,
          "x-hub-signature-256": signature,
        });
        if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
      };
      let raw: Awaited<ReturnType<typeof runLoad>> | undefined;
      if (database) {
        let m = 0;
        raw = await runLoad(
          8,
          () =>
            callJson(database.db, "coord.receive_webhook", [
              "github",
              `raw-${++m}-${Date.now()}`,
              "workflow_run",
              "completed",
            ]),
          { durationMs: 3000 * ctx.scale },
        );
        rows.push(row("receive_webhook (store delivery)", "sql", kind, 8, raw));
      }
      // Latency as GitHub sees it (one delivery at a time), then throughput under a burst.
      for (const conc of [1, 8]) {
        const ingest = await runLoad(conc, deliver, { durationMs: 3000 * ctx.scale });
        rows.push(
          row("POST /webhook/github (verify → stored → 202)", "http", kind, conc, ingest, {
            ratio: raw && conc === 8 ? ingest.throughput / raw.throughput : undefined,
            note: "aim p99 < 50 ms; each delivery is then processed (2 more SQL calls)",
          }),
        );
      }

      const files = tenThousandFiles();
      let c = 0;
      const submit = await runLoad(
        1,
        async () => {
          const sha = (++c).toString(16).padStart(40, "0");
          const res = await client.call(
            "POST",
            "/webhook/agent",
            { repo: "bench/repo", commit_sha: sha, files },
            benchHeaders("bench-agent"),
          );
          if (res.status !== 201)
            throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
        },
        { durationMs: 4000 * ctx.scale, warmupMs: 0 },
      );
      rows.push(
        row("POST /webhook/agent, 10,000 files", "http", kind, 1, submit, {
          note: "validate + route + tier 0 + store",
        }),
      );
    } finally {
      client.close();
      await server.stop();
      await database?.drop();
    }
  }
  return rows;
}
