/**
 * JSON Schema from the operations' zod schemas, in two cuts: complete for the OpenAPI document, compact for the MCP
 * tool list (agents pay for every character of it in their context window, on every turn).
 */
import { z } from "zod";

/** A JSON Schema object (draft 2020-12, the dialect of OpenAPI 3.1 and of MCP when `$schema` is absent). */
export type JsonSchema = { [keyword: string]: unknown };

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Marks an input field agents never fill by hand (e.g. a 384-number embedding): the REST route and the OpenAPI
 * document have it, the MCP tool list leaves it out (the tool still accepts it). `field.meta(REST_ONLY)`.
 */
export const REST_ONLY = { restOnly: true } as const;
// Formats zod spells out again as a long `pattern`; the format alone says it.
const FORMATS_WITH_PATTERN = new Set(["date-time", "uuid", "email", "date", "time", "ipv4", "ipv6"]);

interface Cut {
  /** MCP: no `pattern`, `minLength`, `maxLength` (the server checks them and names the rule when it refuses). */
  compact: boolean;
  /** Descend into `properties` only this deep (the root is depth 0); deeper objects keep just their type. */
  depth: number;
  /** Keep `required` and `description` (inputs: yes; compact outputs: the field names and types are the point). */
  annotate: boolean;
}

function tidy(node: unknown, cut: Cut, depth: number): unknown {
  if (Array.isArray(node)) return node.map((n) => tidy(n, cut, depth));
  if (node === null || typeof node !== "object") return node;
  const s = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    // Noise: the dialect is implied; zod writes the safe-integer range on every integer.
    if (k === "$schema" || k === "restOnly" || (k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE))
      continue;
    // JSON object keys are strings, and extra keys are allowed: answers may gain fields without breaking clients.
    if (k === "propertyNames" || k === "additionalProperties") continue;
    if (k === "pattern" && FORMATS_WITH_PATTERN.has(s.format as string)) continue;
    if (cut.compact && (k === "pattern" || k === "minLength" || k === "maxLength")) continue;
    if (!cut.annotate && (k === "required" || k === "description")) continue;
    if (k === "properties") {
      if (depth >= cut.depth) continue;
      const fields = Object.entries(v as JsonSchema).filter(([, p]) => !(cut.compact && (p as JsonSchema).restOnly));
      out[k] = Object.fromEntries(fields.map(([n, p]) => [n, tidy(p, cut, depth + 1)]));
    } else if (k === "items" && depth >= cut.depth) {
      // Past the cut an array is just an array: what its elements hold is in the OpenAPI document.
    } else if (k === "items" || k === "anyOf" || k === "oneOf" || k === "allOf" || k === "prefixItems") {
      // Items of an array are described by the array's own description.
      const inner = tidy(v, cut, depth);
      out[k] = cut.compact && k === "items" ? withoutDescription(inner) : inner;
    } else out[k] = v;
  }
  if (depth >= cut.depth) delete out.required;
  // `type: ["string", "null"]` is legal but not portable (single-type dialects reject it): say it with anyOf.
  if (Array.isArray(out.type)) {
    const { type, ...rest } = out;
    return { anyOf: (type as string[]).map((t) => ({ type: t })), ...rest };
  }
  return out;
}

function withoutDescription(s: unknown): unknown {
  if (s === null || typeof s !== "object" || Array.isArray(s)) return s;
  const { description: _, ...rest } = s as JsonSchema;
  return rest;
}

function convert(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
}

/** The complete schema of an operation's input or output, for the OpenAPI document. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return tidy(convert(schema, io), { compact: false, depth: Infinity, annotate: true }, 0) as JsonSchema;
}

/**
 * An MCP tool's inputSchema: every argument with its type, enum, default, bounds and description, and which are
 * required — what an agent needs to call the tool right the first time. String patterns and length caps are left to
 * the server, whose refusal names the field and the rule.
 */
export function toolInputSchema(schema: z.ZodType): JsonSchema {
  return tidy(convert(schema, "input"), { compact: true, depth: Infinity, annotate: true }, 0) as JsonSchema;
}

/**
 * An MCP tool's outputSchema: the answer's top-level fields and their JSON types. It stays valid for every answer
 * (the SDK checks `structuredContent` against the full zod schema, which is stricter); the full shape is in the
 * OpenAPI document, and the text content already summarizes the answer for the model.
 */
export function toolOutputSchema(schema: z.ZodType): JsonSchema {
  return tidy(convert(schema, "output"), { compact: true, depth: 1, annotate: false }, 0) as JsonSchema;
}
