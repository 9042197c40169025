/**
 * `npm run docs:api`: renders docs/API_REFERENCE.md from the OpenAPI document the app serves (`apiDocument()`), so the
 * reference cannot drift from the routes. `scripts/api-reference.test.ts` fails when the committed file differs.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { apiDocument } from "../functions-src/app.ts";

// biome-ignore lint/suspicious/noExplicitAny: walks arbitrary JSON Schema and OpenAPI objects
type Schema = Record<string, any>;
type Doc = ReturnType<typeof apiDocument>;

export const API_REFERENCE = fileURLToPath(new URL("../docs/API_REFERENCE.md", import.meta.url));

/**
 * A JSON Schema as one short type expression: `integer 1–480`, `"a" | "b"`, `string[] (≤50 items)`, `object`.
 * `bare` leaves out bounds (for array elements).
 */
function typeOf(s: Schema | undefined, bare = false): string {
  if (!s) return "any";
  if (s.$ref) return String(s.$ref).split("/").pop()!;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  if (s.anyOf) return s.anyOf.map((x: Schema) => typeOf(x, bare)).join(" | ");
  let t = String(s.type ?? "any");
  if (t === "array") {
    const inner = typeOf(s.items, true);
    t = `${/[ |]/.test(inner) ? `(${inner})` : inner}[]`;
    const count = bounds(s.minItems, s.maxItems);
    return count && !bare ? `${t} (${count} items)` : t;
  }
  if (s.format) t += ` (${s.format})`;
  if (bare) return t;
  const range = bounds(
    s.minimum ?? (s.exclusiveMinimum !== undefined ? `>${s.exclusiveMinimum}` : undefined),
    s.maximum,
  );
  const length = bounds(s.minLength, s.maxLength);
  if (range) t += ` ${range}`;
  if (length) t += ` (${length} chars)`;
  return t;
}

function bounds(min: unknown, max: unknown): string {
  if (min !== undefined && max !== undefined) return min === max ? `${min}` : `${min}–${max}`;
  if (min !== undefined) return typeof min === "string" ? min : `≥${min}`;
  if (max !== undefined) return `≤${max}`;
  return "";
}

const cell = (text: unknown) =>
  String(text ?? "")
    .replaceAll("|", "\\|")
    .replaceAll("\n", " ");

/** A Markdown table with its columns aligned (widths in code points), so it reads as text too. */
function table(header: string[], rows: string[][]): string[] {
  const width = header.map((h, i) => Math.max(3, [...h].length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + " ".repeat(width[i]! - [...c].length)).join(" | ")} |`;
  return [line(header), line(width.map((w) => "-".repeat(w))), ...rows.map(line), ""];
}

/** The object a field holds, if any: its own properties, or its array elements' (nullable or not). */
function objectOf(s: Schema): Schema | undefined {
  const plain = s.anyOf?.find((x: Schema) => x.type !== "null") ?? s;
  if (plain.properties) return plain;
  if (plain.type === "array" && plain.items?.properties) return plain.items;
  return undefined;
}

/** One row per field, nested fields as `locks[].key` (to `depth` levels). */
function fieldRows(schema: Schema, prefix: string, depth: number): string[][] {
  const required = new Set<string>(schema.required ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, Schema>).flatMap(([name, s]) => {
    const path = `${prefix}${name}`;
    const row = [
      `\`${path}\``,
      cell(typeOf(s)),
      required.has(name) ? "yes" : "",
      s.default === undefined ? "" : `\`${cell(JSON.stringify(s.default))}\``,
      cell(s.description),
    ];
    const inner = depth > 1 ? objectOf(s) : undefined;
    const isArray = (s.anyOf?.find((x: Schema) => x.type !== "null") ?? s).type === "array";
    return [row, ...(inner ? fieldRows(inner, `${path}${isArray ? "[]" : ""}.`, depth - 1) : [])];
  });
}

function fieldTable(schema: Schema | undefined): string[] {
  if (!schema?.properties || Object.keys(schema.properties).length === 0) return ["(no fields)", ""];
  return table(["field", "type", "required", "default", "description"], fieldRows(schema, "", 3));
}

function parameterTable(params: Schema[]): string[] {
  if (params.length === 0) return [];
  return table(
    ["parameter", "in", "type", "required", "description"],
    params.map((p) => [`\`${p.name}\``, p.in, cell(typeOf(p.schema)), p.required ? "yes" : "", cell(p.description)]),
  );
}

/** The status under which operations refer to a shared error answer. */
function statusOf(doc: Doc, component: string): string {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item as Record<string, Schema>)) {
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Schema>)) {
        if (r.$ref === `#/components/responses/${component}`) return status;
      }
    }
  }
  return "?";
}

/** docs/API_REFERENCE.md for an OpenAPI document. */
export function renderApiReference(doc: Doc): string {
  const out: string[] = [
    "# API reference",
    "",
    "<!-- Generated by `npm run docs:api` from the OpenAPI document (`GET /openapi.json`); do not edit by hand. -->",
    "",
    `${doc.info.title} ${doc.info.version}. ${doc.info.description}`,
    "",
    `Servers: ${doc.servers.map((s) => `\`${s.url}\` (${s.description})`).join(", ")}.`,
    "",
    "Authentication: `Authorization: Bearer KEY` or `X-API-Key: KEY` on every route that does not say otherwise. " +
      "Identity headers, on every operation:",
    "",
    ...parameterTable(Object.values(doc.components.parameters) as Schema[]),
    "Refusals share one body, `{ error: { code, message, request_id, … } }`:",
    "",
    ...table(
      ["status", "when"],
      Object.entries(doc.components.responses).map(([name, r]) => [
        statusOf(doc, name),
        cell((r as Schema).description),
      ]),
    ),
  ];
  const byTag = new Map<string, Array<[string, string, Schema]>>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, Schema>)) {
      const tag = op.tags?.[0] ?? "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push([method, path, op]);
    }
  }
  for (const [tag, ops] of byTag) {
    out.push(`## ${tag}`, "");
    for (const [method, path, op] of ops) {
      out.push(`### \`${method.toUpperCase()} ${path}\` — ${op.summary}`, "", op.description, "");
      const facts = [
        op.security?.length === 0 ? "no key" : `access: ${op["x-access"] ?? "agent"}`,
        ...(op["x-mcp-tool"] ? [`MCP tool \`${op["x-mcp-tool"]}\``] : []),
      ];
      out.push(`${facts.join(" · ")}`, "");
      const params = (op.parameters ?? []).filter((p: Schema) => !p.$ref);
      out.push(...parameterTable(params));
      const body = op.requestBody?.content?.["application/json"]?.schema;
      if (body) out.push("Body:", "", ...fieldTable(body));
      const answers = Object.entries(op.responses as Record<string, Schema>);
      for (const [status, r] of answers.filter(([s, r]) => s.startsWith("2") && !r.$ref)) {
        const schema = r.content?.["application/json"]?.schema;
        out.push(`Answer ${status}: ${r.description}${schema?.properties ? "" : "."}`, "");
        if (schema?.properties) out.push(...fieldTable(schema));
      }
      const refusals = answers.filter(([s]) => !s.startsWith("2")).map(([s]) => s);
      if (refusals.length) out.push(`Refusals: ${refusals.join(", ")}.`, "");
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(API_REFERENCE, renderApiReference(apiDocument()));
  process.stderr.write(`wrote ${API_REFERENCE}\n`);
}
