import { Hono } from "hono";
import { z } from "zod";
import { defineCapability } from "../ops/capability.ts";
import { callJson } from "../db/port.ts";
import { errorResponse, type PathItem } from "../ops/openapi.ts";
import { defineOperation } from "../ops/operation.ts";
import type { AppDeps, AppEnv, OpContext } from "../types.ts";
import { VERSION } from "../version.ts";
import { memoryCapability } from "../memory/capability.ts";
import type { MemoryWorker } from "../memory/worker.ts";

const StatusOut = z.object({
  version: z.string(),
  schema_version: z.string(),
  agents: z.number().int(),
  live_sessions: z.number().int(),
  locks: z.number().int(),
  tasks: z.number().int(),
  now: z.string(),
  memory: z
    .object({
      embeddings: z.object({
        provider: z.string(),
        vector: z.enum(["available", "unavailable"]),
        embedded: z.number().int().optional(),
        pending: z.number().int().optional(),
        note: z.string().optional(),
      }),
    })
    .optional()
    .describe("Memory's embedding provider and vector store (absent when memory is not mounted)."),
});

async function readStatus(ctx: Pick<OpContext, "db" | "state">): Promise<z.output<typeof StatusOut>> {
  const s = await callJson<Omit<z.output<typeof StatusOut>, "version" | "memory">>(ctx.db, "coord.status");
  let worker: MemoryWorker | null = null;
  try {
    worker = ctx.state(memoryCapability);
  } catch {
    // memory is not mounted in this app
  }
  return { version: VERSION, ...s, ...(worker ? { memory: { embeddings: await worker.status() } } : {}) };
}

/** GET /status: the same counts as the coordinator://status resource, for REST callers. */
export const status = defineOperation({
  name: "coordinator_status",
  title: "Coordinator status",
  description: "Version, schema version, counts of agents, locks and open tasks, and memory's embedding provider.",
  input: z.object({}),
  output: StatusOut,
  hints: { readOnlyHint: true, idempotentHint: true },
  http: { method: "GET", path: "/status" },
  tool: false,
  run: (ctx) => readStatus(ctx),
  summarize: (s) =>
    `v${s.version} schema ${s.schema_version}: ${s.agents} agents, ${s.locks} locks, ${s.tasks} open tasks`,
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /health`, unauthenticated: 200 with the schema version when the database answers, 503 when it does
 * not. The drivers reconnect on their own, so health recovers without a restart once the database is back.
 */
function healthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/health", async (c) => {
    try {
      const rows = await withTimeout(
        deps.db.query<{ v: string }>("select coord.schema_version() as v"),
        deps.config.healthTimeoutMs,
      );
      return c.json(
        {
          status: "ok",
          version: VERSION,
          database: { kind: deps.db.kind, reachable: true, schema_version: rows[0]!.v },
        },
        200,
      );
    } catch (err) {
      // 3F000 invalid_schema_name / 42883 undefined_function: the server answered, but nothing is migrated yet.
      const code = (err as { code?: string }).code;
      if (code === "3F000" || code === "42883") {
        return c.json(
          {
            status: "unavailable",
            version: VERSION,
            database: {
              kind: deps.db.kind,
              reachable: true,
              schema_version: null,
              hint: "not migrated: run `npm run migrate` or `supabase db push`",
            },
          },
          503,
        );
      }
      deps.log.warn("health: database unreachable", { error: (err as Error).message });
      return c.json(
        { status: "unavailable", version: VERSION, database: { kind: deps.db.kind, reachable: false } },
        503,
      );
    }
  });
}

const Health = {
  type: "object",
  required: ["status", "version", "database"],
  properties: {
    status: { type: "string", enum: ["ok", "unavailable"] },
    version: { type: "string" },
    database: {
      type: "object",
      required: ["kind", "reachable"],
      properties: {
        kind: { type: "string", enum: ["postgres", "pglite"] },
        reachable: { type: "boolean" },
        schema_version: { anyOf: [{ type: "string" }, { type: "null" }], description: "The last migration applied" },
        hint: { type: "string", description: "What to do when the database answers but is not migrated" },
      },
    },
  },
};

const HEALTH_DOC: PathItem = {
  get: {
    operationId: "health",
    summary: "Health",
    description: "Whether the app can reach its database; no key needed.",
    tags: ["status"],
    security: [],
    responses: {
      "200": { description: "Ready", content: { "application/json": { schema: Health } } },
      "503": {
        description: "The database is unreachable or not migrated",
        content: { "application/json": { schema: Health } },
      },
      "500": errorResponse(500),
    },
  },
};

export const statusCapability = defineCapability({
  name: "status",
  operations: [status],
  resources: [
    {
      name: "status",
      uri: "coordinator://status",
      title: "Coordinator status",
      description:
        "Version, schema version, counts of agents, live sessions, active locks and open tasks, and memory's embedding provider and vector store.",
      read: (ctx) => readStatus(ctx),
    },
  ],
  routes: (deps) => healthRoutes(deps),
  routeDocs: { "/health": HEALTH_DOC },
});
