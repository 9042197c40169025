/**
 * The OpenAPI 3.1 document: every operation from its declaration (route, parameters, body, answer, who may call it,
 * the refusals), plus the routes that are not operations (health, MCP, webhooks), which their modules describe as
 * path items. Only types come from outside `ops/`: the version and those path items are passed in.
 */
import type { Capability } from "./capability.ts";
import { type JsonSchema, jsonSchema } from "./json-schema.ts";
import type { Operation } from "./operation.ts";

/** An OpenAPI path item (method → operation object), for routes that are not operations. */
export type PathItem = Record<string, Record<string, unknown>>;

/** A reference to one of the document's shared error answers, by status. */
export function errorResponse(status: keyof typeof ERRORS): { $ref: string } {
  return { $ref: `#/components/responses/${ERRORS[status].name}` };
}

const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      description: "Further fields carry details of the refusal (e.g. the locks that blocked an acquire).",
      properties: {
        code: { type: "string", description: "Stable, machine-readable: lock_conflict, invalid_input, …" },
        message: { type: "string", description: "What happened and what to do next" },
        request_id: { type: "string", description: "X-Request-Id of the request (the server's logs carry it)" },
        fields: {
          type: "array",
          description: "invalid_input: each field and what is wrong with it",
          items: {
            type: "object",
            required: ["field", "message"],
            properties: { field: { type: "string" }, message: { type: "string" } },
          },
        },
      },
    },
  },
};

const RETRY_AFTER = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } };

/** The refusals every route may answer, shared as components. */
const ERRORS = {
  400: { name: "BadRequest", description: "Invalid input, header or JSON: the message and `fields` name what to fix." },
  401: {
    name: "Unauthorized",
    description: "No API key, or a key the server does not know or has revoked.",
    headers: {
      "WWW-Authenticate": {
        description: 'Bearer realm="agent-coordinator", with error="invalid_token" for a wrong key',
        schema: { type: "string" },
      },
    },
  },
  403: {
    name: "Forbidden",
    description: "The key may not do this: bound to another agent, admin only, host not allowed.",
  },
  404: { name: "NotFound", description: "No such thing (task, changeset, memory, key, repository) or route." },
  409: { name: "Conflict", description: "The current state refuses it: a lock is held, a lease was lost, …" },
  413: { name: "PayloadTooLarge", description: "The body is over the cap; send less per call." },
  415: { name: "UnsupportedMediaType", description: "The body must be JSON with Content-Type: application/json." },
  429: { name: "TooManyRequests", description: "Over a quota; retry after Retry-After seconds.", headers: RETRY_AFTER },
  500: { name: "InternalError", description: "A bug; the body carries the request id and nothing internal." },
  503: {
    name: "Unavailable",
    description: "The database is unreachable (or a feature is not configured); retry after Retry-After seconds.",
    headers: RETRY_AFTER,
  },
} as const;

function errorComponents() {
  return Object.fromEntries(
    Object.values(ERRORS).map(({ name, ...rest }) => [
      name,
      { ...rest, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
    ]),
  );
}

const PATH_PARAM = /:([A-Za-z_]+)/g;

/** `/work/tasks/:task_id` → `/work/tasks/{task_id}`. */
export function openApiPath(path: string): string {
  return path.replace(PATH_PARAM, "{$1}");
}

function operationObject(op: Operation, tag: string, headers: string[]) {
  const input = jsonSchema(op.input, "input");
  const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const inPath = [...op.http.path.matchAll(PATH_PARAM)].map((m) => m[1]!);
  const param = (name: string, where: "path" | "query") => {
    const { description, ...schema } = properties[name] ?? { type: "string" };
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(description ? { description } : {}),
      schema,
      // Arrays: repeat the key (?ids=1&ids=2); a comma-separated value is accepted too.
      ...(schema.type === "array" ? { style: "form", explode: true } : {}),
    };
  };
  const hasBody = op.http.method === "POST";
  const bodyFields = Object.keys(properties).filter((n) => !inPath.includes(n));
  const body: JsonSchema = {
    ...input,
    properties: Object.fromEntries(bodyFields.map((n) => [n, properties[n]])),
    ...(required.size ? { required: [...required].filter((n) => !inPath.includes(n)) } : {}),
  };
  if ((body.required as string[] | undefined)?.length === 0) delete body.required;
  const access = typeof op.access === "function" ? "agent; admin with some arguments" : (op.access ?? "agent");
  const refusals: Array<keyof typeof ERRORS> = [400, 401, 403, 404, 409];
  if (hasBody) refusals.push(413, 415);
  refusals.push(429, 500, 503);
  return {
    operationId: op.name,
    summary: op.title,
    description: op.description,
    tags: [tag],
    "x-access": access,
    ...(op.tool === false ? {} : { "x-mcp-tool": op.name }),
    parameters: [
      ...inPath.map((n) => param(n, "path")),
      ...(hasBody ? [] : bodyFields.map((n) => param(n, "query"))),
      ...headers.map((h) => ({ $ref: `#/components/parameters/${h}` })),
    ],
    ...(hasBody ? { requestBody: { required: true, content: { "application/json": { schema: body } } } } : {}),
    responses: {
      [String(op.http.status ?? 200)]: {
        description: op.title,
        content: { "application/json": { schema: jsonSchema(op.output, "output") } },
      },
      ...Object.fromEntries(refusals.map((s) => [String(s), errorResponse(s)])),
    },
  };
}

export interface OpenApiOptions {
  version: string;
  /** Header parameters every operation takes (the identity headers), by component name. */
  headers: Record<string, Record<string, unknown>>;
  /** Routes that are not operations, described by their modules (health, MCP, webhooks, this document). */
  paths: Record<string, PathItem>;
}

/** The OpenAPI 3.1 document of an app serving `capabilities`. */
export function openApiDocument(capabilities: readonly Capability[], options: OpenApiOptions) {
  const paths: Record<string, PathItem> = {};
  const add = (path: string, item: PathItem) => {
    paths[path] = { ...paths[path], ...item };
  };
  for (const [path, item] of Object.entries(options.paths)) add(path, item);
  for (const cap of capabilities) {
    for (const [path, item] of Object.entries(cap.routeDocs ?? {})) add(path, item);
    for (const op of cap.operations) {
      const item = operationObject(op, cap.name, Object.keys(options.headers));
      add(openApiPath(op.http.path), { [op.http.method.toLowerCase()]: item });
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Agent Coordinator",
      version: options.version,
      description:
        "File locks, a work queue, memory and a verification gateway for AI coding agents. Every operation marked " +
        "x-mcp-tool is also an MCP tool at /mcp. Errors are `{ error: { code, message, … } }`.",
    },
    servers: [
      { url: "http://127.0.0.1:8787", description: "npm start" },
      {
        url: "https://{project}.supabase.co/functions/v1/coordinator",
        description: "Supabase Edge Function",
        variables: { project: { default: "your-project-ref", description: "The Supabase project ref" } },
      },
    ],
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: capabilities.map((c) => ({ name: c.name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <API key>" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The same key, in X-API-Key" },
      },
      parameters: options.headers,
      schemas: { Error: ERROR_SCHEMA },
      responses: errorComponents(),
    },
  };
}
