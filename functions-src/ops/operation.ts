import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { actingAs } from "../db/port.ts";
import { ApiError, asApiError, describeError, internalMessage } from "../http/errors.ts";
import { quotaError } from "./quotas.ts";
import { checkJson, checkQuery, parseJson } from "../http/input-gate.ts";
import { requireJson } from "../http/middleware.ts";
import type { AppDeps, AppEnv, Identity, OpContext } from "../types.ts";
import { toolInputSchema, toolOutputSchema } from "./json-schema.ts";

/** MCP tool annotations: hints an agent host uses to decide how carefully to call a tool. */
export interface ToolHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

/**
 * Who may call an operation: any authenticated agent, an agent session (the call belongs to one agent process and
 * needs X-Session-Id), or an admin key.
 */
export type Access = "agent" | "session" | "admin";

/**
 * One operation, declared once: its zod schemas validate REST input, become the MCP tool's inputSchema and
 * outputSchema, and feed the OpenAPI document; `access` says who may call it, and the operation layer enforces it for
 * every transport. `run` does the work (usually one SQL function call) and throws ApiError to refuse; `summarize`
 * renders the answer as the one or two lines an LLM reads.
 */
export interface Operation<I extends AnyObject = AnyObject, O extends AnyObject = AnyObject> {
  /** The MCP tool name (snake_case). */
  name: string;
  title: string;
  /** Short and exact: agents pay for every word of it in their context window. */
  description: string;
  input: I;
  output: O;
  hints: ToolHints;
  /** The REST route. Path parameters (`:id`) fill input fields of the same name. */
  http: { method: "GET" | "POST" | "DELETE"; path: string; status?: ContentfulStatusCode };
  /** When false the operation is REST-only (no MCP tool). */
  tool?: boolean;
  /** Who may call it (default `agent`); a function decides from the input (e.g. `force: true` needs admin). */
  access?: Access | ((input: z.output<I>) => Access);
  /**
   * The input field by which the server recognises a repeated call (default `idempotency_key` when the input has
   * one): a call that carries it (every item's, in a batch) answers the first call's outcome when sent again, so
   * clients may retry it after an unknown outcome. Not needed for operations that are idempotent (`idempotentHint`).
   */
  replayKey?: string;
  /** A per-agent rate each call counts against besides the request rate (config.quotas; admins exempt). */
  rate?: "memoryWrites";
  run(ctx: OpContext, input: z.output<I>): Promise<z.output<O>>;
  summarize(output: z.output<O>): string;
}

/** Declares an operation with its types inferred from the schemas. */
export function defineOperation<I extends AnyObject, O extends AnyObject>(op: Operation<I, O>): Operation<I, O> {
  return op;
}

/** Refuses a caller the operation's declared access does not admit (403 admin_required, 400 missing_session_id). */
function checkAccess(op: Operation, identity: Identity, input: unknown): void {
  const access = typeof op.access === "function" ? op.access(input as z.output<AnyObject>) : (op.access ?? "agent");
  if (access === "admin" && identity.scope !== "admin") {
    const how = typeof op.access === "function" ? " with these arguments" : "";
    throw new ApiError(403, "admin_required", `Only an admin key may call ${op.name}${how}.`);
  }
  if (access === "session" && !identity.sessionId) {
    throw new ApiError(
      400,
      "missing_session_id",
      `Send X-Session-Id: ${op.name} belongs to one agent session (the bridge sends one; pick one id per agent process).`,
    );
  }
}

/** Runs an operation for a caller: the one path REST routes and MCP tools share, after the input is parsed. */
export async function invoke<I extends AnyObject, O extends AnyObject>(
  op: Operation<I, O>,
  ctx: OpContext,
  input: z.output<I>,
): Promise<z.output<O>> {
  checkAccess(op as unknown as Operation, ctx.identity, input);
  if (ctx.identity.scope === "admin") {
    // Admins may act as anyone; what they change is recorded as theirs (events carry acted_by).
    return op.run({ ...ctx, db: actingAs(ctx.db, `admin:${ctx.identity.key}`) }, input);
  }
  if (op.rate) {
    const limiter = ctx.rates[op.rate];
    const wait = limiter.take(ctx.identity.agentId);
    if (wait > 0) {
      throw quotaError(
        "memory_writes_per_minute",
        `Over the memory write rate: at most ${limiter.perMinute} memory writes a minute per agent; retry in ${wait} s.`,
        wait,
        { max: limiter.perMinute },
      );
    }
  }
  return op.run(ctx, input);
}

/** Formats zod issues as one actionable sentence plus the fields, for a 400 or an MCP error. */
export function invalidInput(error: z.ZodError): ApiError {
  const fields = error.issues.slice(0, 10).map((i) => ({ field: i.path.join(".") || "(body)", message: i.message }));
  const message = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  return new ApiError(400, "invalid_input", `Invalid input — ${message}`, { fields });
}

/** Parses input with the operation's schema, refusing with 400 and the fields. */
export function parseInput<I extends AnyObject>(schema: I, raw: unknown): z.output<I> {
  const r = schema.safeParse(raw);
  if (!r.success) throw invalidInput(r.error);
  return r.data;
}

/** The type under optional/default/nullable wrappers: what a query-string value must become. */
function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodNullable) {
    cur = cur.def.innerType as z.ZodType;
  }
  return cur;
}

/** Query strings arrive as strings: repeated keys (or comma lists) become arrays where the schema wants one. */
export function queryInput(c: Context, schema: AnyObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const queries = c.req.queries();
  checkQuery(queries);
  for (const [k, values] of Object.entries(queries)) {
    const field = schema.shape[k] as z.ZodType | undefined;
    const inner = field ? unwrap(field) : undefined;
    if (inner instanceof z.ZodArray) out[k] = values.flatMap((v) => v.split(",")).filter((v) => v !== "");
    else if (inner instanceof z.ZodNumber) out[k] = Number(values[values.length - 1]);
    else if (inner instanceof z.ZodBoolean) out[k] = values[values.length - 1] === "true";
    else out[k] = values[values.length - 1];
  }
  return out;
}

/** Mounts an operation as a REST route on a Hono app. */
export function mountOperation(app: Hono<AppEnv>, deps: AppDeps, auth: MiddlewareHandler<AppEnv>, op: Operation): void {
  const handler = async (c: Context<AppEnv>) => {
    const raw =
      op.http.method === "GET" || op.http.method === "DELETE" ? queryInput(c, op.input) : parseJson(await c.req.text());
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ApiError(400, "invalid_input", "Request body must be a JSON object.");
    }
    const merged = { ...(raw as object), ...c.req.param() };
    // Path parameters are text from outside too: the gate sees the whole input once.
    checkJson(merged);
    const input = parseInput(op.input, merged);
    const output = await invoke(op, { ...deps, identity: c.get("identity"), requestId: c.get("requestId") }, input);
    return c.json(output, op.http.status ?? 200);
  };
  if (op.http.method === "POST") app.post(op.http.path, auth, requireJson(), handler);
  else app.on(op.http.method, op.http.path, auth, handler);
}

/** The spec's defaults for tool hints; a listed hint that only repeats its default is left out. */
const HINT_DEFAULTS: Required<ToolHints> = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
};

/**
 * An operation's entry in the MCP tool list, compact (see json-schema.ts): agents read the whole list on every turn.
 * Hints that repeat the spec's defaults or do not apply are left out, and so is the title: the snake_case name is
 * readable, and clients display the name when there is no title.
 */
export function toolDefinition(op: Operation): Tool {
  // destructiveHint and idempotentHint mean something only for a tool that is not read-only.
  const readOnly = op.hints.readOnlyHint === true;
  const hints = Object.entries(op.hints).filter(
    ([k, v]) =>
      HINT_DEFAULTS[k as keyof ToolHints] !== v && !(readOnly && (k === "destructiveHint" || k === "idempotentHint")),
  );
  return {
    name: op.name,
    description: op.description,
    inputSchema: toolInputSchema(op.input) as Tool["inputSchema"],
    outputSchema: toolOutputSchema(op.output) as Tool["outputSchema"],
    ...(hints.length ? { annotations: Object.fromEntries(hints) } : {}),
  };
}

/** A refusal as an MCP tool result: `isError`, the code and message, and the details as JSON. */
export function toolError(err: ApiError) {
  const details = Object.keys(err.details).length ? `\n${JSON.stringify(err.details)}` : "";
  return { isError: true, content: [{ type: "text" as const, text: `${err.code}: ${err.message}${details}` }] };
}

/**
 * Registers an operation as an MCP tool; refusals become `isError` results carrying the same message. `preamble`, when
 * it answers text, is put first in the answer (the MCP route's lost-lock/claim notices), refusals included.
 */
export function registerOperationTool(
  server: McpServer,
  ctx: OpContext,
  op: Operation,
  preamble?: () => Promise<string | null>,
): void {
  server.registerTool(
    op.name,
    // The SDK validates arguments with inputSchema and structuredContent with outputSchema (the full zod schemas);
    // what tools/list shows is toolDefinition's compact cut of the same schemas (see buildMcpServer).
    { description: op.description, inputSchema: op.input, outputSchema: op.output },
    // The SDK has already parsed `args` with op.input (the tool's inputSchema); they go to the operation as they are.
    async (args: unknown) => {
      const first = async () => {
        const text = await preamble?.().catch((err: unknown) => {
          ctx.log.warn("notices failed", { request_id: ctx.requestId, error: String(err) });
          return null;
        });
        return text ? [{ type: "text" as const, text }] : [];
      };
      try {
        const output = await invoke(op, ctx, args as z.output<typeof op.input>);
        return {
          content: [...(await first()), { type: "text" as const, text: op.summarize(output) }],
          structuredContent: output as Record<string, unknown>,
        };
      } catch (err) {
        const refusal = asApiError(err, ctx.constraints);
        if (refusal) {
          if (refusal.code === "unavailable") {
            ctx.log.warn("database unavailable", { tool: op.name, request_id: ctx.requestId, ...describeError(err) });
          }
          const { isError, content } = toolError(refusal);
          return { isError, content: [...(await first()), ...content] };
        }
        ctx.log.error("tool failed", { tool: op.name, request_id: ctx.requestId, ...describeError(err) });
        return {
          isError: true,
          content: [{ type: "text" as const, text: `internal: ${internalMessage(ctx.requestId)}` }],
        };
      }
    },
  );
}
