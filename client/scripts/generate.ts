/**
 * Generates `client/src/generated/operations.ts` from the operation declarations the server mounts: one TypeScript
 * input and output type per operation (from the zod schemas, through JSON Schema), the route table (method, path,
 * retry rule, and the field a keyed retry needs) and one method per operation. The client package ships only the
 * result: no server code and no zod at run time.
 *
 *   tsx client/scripts/generate.ts [OUT_FILE]   writes it (default: client/src/generated/operations.ts)
 *   tsx client/scripts/generate.ts --check      fails when the file differs from a fresh generation (run by prepack)
 *
 * The output is deterministic; `client/src/generated.test.ts` regenerates into a temporary file and fails when the
 * committed file differs (an operation changed and nobody ran `npm run build`).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CAPABILITIES } from "../../functions-src/app.ts";
import type { Operation } from "../../functions-src/ops/operation.ts";

/** The subset of JSON Schema that zod's `toJSONSchema` emits for our schemas. */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A JSDoc block (or nothing) for a description, indented. */
function doc(text: string | undefined, indent: string, extra: string[] = []): string {
  const lines = [...(text ? text.split("\n") : []), ...extra].map((l) => l.replace(/\*\//g, "*\\/"));
  if (lines.length === 0) return "";
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

/** Renders a JSON Schema as a TypeScript type expression. */
function tsType(s: JsonSchema, indent: string): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.anyOf || s.oneOf) return union((s.anyOf ?? s.oneOf)!.map((m) => tsType(m, indent)));
  if (s.allOf) return s.allOf.map((m) => `(${tsType(m, indent)})`).join(" & ");
  if (Array.isArray(s.type)) return union(s.type.map((t) => tsType({ ...s, type: t }, indent)));
  switch (s.type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      if (s.prefixItems) return `[${s.prefixItems.map((m) => tsType(m, indent)).join(", ")}]`;
      return `Array<${s.items ? tsType(s.items, indent) : "unknown"}>`;
    case "object":
      return objectType(s, indent);
    default:
      return "unknown";
  }
}

function union(members: string[]): string {
  return [...new Set(members)].join(" | ");
}

function objectType(s: JsonSchema, indent: string): string {
  const props = Object.entries(s.properties ?? {});
  const extra = s.additionalProperties;
  const valueType = extra === undefined || extra === false ? null : extra === true ? "unknown" : tsType(extra, indent);
  if (props.length === 0) return valueType ? `Record<string, ${valueType}>` : "Record<string, never>";
  const inner = `${indent}  `;
  const required = new Set(s.required ?? []);
  const lines = props.map(([name, p]) => {
    const key = IDENT.test(name) ? name : JSON.stringify(name);
    const defaults = p.default !== undefined ? [`@default ${JSON.stringify(p.default)}`] : [];
    return `${doc(p.description, inner, defaults)}${inner}${key}${required.has(name) ? "" : "?"}: ${tsType(p, inner)};`;
  });
  // Open objects (zod's looseObject) keep their extra keys; their declared keys stay typed.
  if (valueType) lines.push(`${inner}[key: string]: unknown;`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/**
 * When the client may send a call again after a 503, a 429 or a lost connection: always, never, or only when the call
 * carries `key` (the field the server recognises a repeat by: an idempotency key, a claim token).
 */
export function retryRule(op: Operation): { retry: "always" | "never" } | { retry: "key"; key: string } {
  // Reads, and writes that are idempotent by nature (re-acquiring a lock you hold refreshes it, same token).
  if (op.hints.readOnlyHint || op.hints.idempotentHint) return { retry: "always" };
  // Writes the server deduplicates by a field of the call: safe only when the caller sent it.
  const key = op.replayKey ?? "idempotency_key";
  const shape = op.input.shape as Record<string, z.ZodType>;
  if (key in shape) return { retry: "key", key };
  for (const field of Object.values(shape)) {
    const items = field instanceof z.ZodArray ? field.element : null;
    if (items instanceof z.ZodObject && key in items.shape) return { retry: "key", key };
  }
  if (op.replayKey) throw new Error(`${op.name}: replayKey ${op.replayKey} is not a field of its input`);
  return { retry: "never" };
}

/** The retry rule as the generated docs say it. */
function ruleText(op: Operation): string {
  const r = retryRule(op);
  return r.retry === "key" ? `with ${r.key}` : r.retry;
}

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
}

/** The whole generated module, as text. */
export function generate(): string {
  const ops = CAPABILITIES.flatMap((c) => c.operations);
  const names = new Set<string>();
  for (const op of ops) {
    if (names.has(op.name)) throw new Error(`operation ${op.name} is declared twice`);
    names.add(op.name);
  }

  let types = "";
  for (const op of ops) {
    const input = schemaOf(op.input, "input");
    const output = schemaOf(op.output, "output");
    types += doc(`Arguments of \`${op.name}\` (${op.http.method} ${op.http.path}).`, "");
    types += `export type ${pascal(op.name)}Input = ${objectType(input, "")};\n\n`;
    types += doc(`Answer of \`${op.name}\`.`, "");
    types += `export type ${pascal(op.name)}Output = ${objectType(output, "")};\n\n`;
  }

  const table = ops
    .map((op) => {
      const r = retryRule(op);
      const rule = r.retry === "key" ? `retry: "key", key: "${r.key}"` : `retry: "${r.retry}"`;
      return `  ${op.name}: { method: "${op.http.method}", path: "${op.http.path}", ${rule} },`;
    })
    .join("\n");

  const typeMap = ops
    .map((op) => `  ${op.name}: { input: ${pascal(op.name)}Input; output: ${pascal(op.name)}Output };`)
    .join("\n");

  const methods = ops
    .map((op) => {
      const input = schemaOf(op.input, "input");
      // Operations with no required argument can be called with none.
      const optional = (input.required ?? []).length === 0;
      const access = typeof op.access === "function" ? "depends on the arguments" : (op.access ?? "agent");
      const notes = [
        `\`${op.http.method} ${op.http.path}\`${op.tool === false ? " (REST only)" : ` · MCP tool \`${op.name}\``} · access: ${access} · retried: ${ruleText(op)}`,
      ];
      return (
        doc(op.description, "  ", notes) +
        `  ${camel(op.name)}(args: ${pascal(op.name)}Input${optional ? " = {}" : ""}, options?: CallOptions): Promise<${pascal(op.name)}Output> {\n` +
        `    return this.call("${op.name}", args, options);\n  }\n`
      );
    })
    .join("\n");

  return `// Generated by client/scripts/generate.ts from the operation declarations in functions-src/. Do not edit:
// run \`npm run build\` (root or client workspace) after changing an operation.
import type { CallOptions } from "../types.ts";

${types}/** How each operation is called over REST, and when a failed call may be sent again. */
export const OPERATIONS = {
${table}
} as const;

/** Every operation's name. */
export type OperationName = keyof typeof OPERATIONS;

/** Input and output types by operation name. */
export interface OperationTypes {
${typeMap}
}

/** One method per operation; the client supplies \`call\`. */
export abstract class OperationMethods {
  protected abstract call<N extends OperationName>(
    name: N,
    args: OperationTypes[N]["input"],
    options?: CallOptions,
  ): Promise<OperationTypes[N]["output"]>;

${methods}}
`;
}

const DEFAULT_OUT = fileURLToPath(new URL("../src/generated/operations.ts", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === "--check") {
    const current = await readFile(DEFAULT_OUT, "utf8").catch(() => "");
    if (current !== generate()) {
      process.stderr.write(
        `${DEFAULT_OUT} is out of date with the operation declarations: run \`npm run build\` and commit the result\n`,
      );
      process.exit(1);
    }
    process.exit(0);
  }
  const out = process.argv[2] ?? DEFAULT_OUT;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, generate());
  // Importing the app's capabilities may start nothing, but keep the script's exit independent of stray handles.
  process.exit(0);
}
