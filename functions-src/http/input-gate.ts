/**
 * The input gate: the rules every text and JSON value from outside obeys before any schema or SQL sees it, in one
 * place for REST bodies and query strings, MCP tool calls and verified webhook payloads.
 *
 * - Text never carries U+0000 or a lone UTF-16 surrogate. Postgres can store neither (text refuses NUL, jsonb refuses
 *   both), and a replacement would silently change what the caller sent (a path, an idempotency key), so the gate
 *   refuses: 400 `invalid_input` naming the field. Object keys count as text.
 * - JSON values nest at most MAX_JSON_DEPTH levels (a body, or a tool call's arguments, is level 1): deeper values
 *   cost stack in every layer that walks them (serialisers, drivers, jsonb), so they are refused the same way.
 *
 * The walk is iterative, so no input can exhaust the stack while it is checked.
 */
import { ApiError } from "./errors.ts";

/** How deep a JSON value may nest (objects and arrays), counting the outermost value as level 1. */
export const MAX_JSON_DEPTH = 64;

/** What is wrong with a value, and where (a path of keys and indexes). */
export interface GateViolation {
  path: Array<string | number>;
  problem: "nul" | "surrogate" | "depth";
}

const PROBLEMS: Record<GateViolation["problem"], string> = {
  nul: "contains the NUL character (U+0000), which cannot be stored; remove it",
  surrogate: "contains a lone UTF-16 surrogate (not valid Unicode); send well-formed text",
  depth: `nests deeper than ${MAX_JSON_DEPTH} levels; flatten it or store it elsewhere and pass a reference`,
};

// A high surrogate not followed by a low one, or a low one not preceded by a high one (code units: no `u` flag).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The problem of one string, or null when it is clean text. */
export function textProblem(s: string): "nul" | "surrogate" | null {
  if (s.includes("\u0000")) return "nul";
  if (LONE_SURROGATE.test(s)) return "surrogate";
  return null;
}

/**
 * The first violation in a JSON value (strings, keys, nesting), or null. `depth` is the level of `value` itself,
 * for values that sit inside a larger document.
 */
export function inspectJson(value: unknown, depth = 1): GateViolation | null {
  const stack: Array<{ v: unknown; path: Array<string | number>; depth: number }> = [{ v: value, path: [], depth }];
  while (stack.length) {
    const { v, path, depth: d } = stack.pop()!;
    if (typeof v === "string") {
      const problem = textProblem(v);
      if (problem) return { path, problem };
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (d > MAX_JSON_DEPTH) return { path, problem: "depth" };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i], depth: d + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const problem = textProblem(k);
      if (problem) return { path: [...path, k], problem };
      stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k], depth: d + 1 });
    }
  }
  return null;
}

/** A field path as the other 400s name fields: `tasks.0.input_data`, `(body)` for the whole value. */
export function fieldName(path: Array<string | number>, prefix = ""): string {
  // A path 3000 levels deep says no more than its first few steps.
  const shown = path.length > 8 ? [...path.slice(0, 8), "…"] : path;
  const joined = shown.map(String).join(".");
  return prefix ? (joined ? `${prefix}.${joined}` : prefix) : joined || "(body)";
}

/** The sentence a refusal says about a violation. */
export function violationMessage(v: GateViolation, prefix = ""): string {
  return `${fieldName(v.path, prefix)} ${PROBLEMS[v.problem]}`;
}

/** The 400 for a violation, shaped like every other validation failure (`fields`). */
export function gateError(v: GateViolation, prefix = ""): ApiError {
  const field = fieldName(v.path, prefix);
  const message = PROBLEMS[v.problem];
  return new ApiError(400, "invalid_input", `Invalid input — ${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** Refuses a value that breaks the gate's rules. */
export function checkJson(value: unknown, prefix = ""): void {
  const v = inspectJson(value);
  if (v) throw gateError(v, prefix);
}

/** Parses a JSON text and checks it; 400 `malformed_json` when it is not JSON. */
export function parseJson(text: string, what = "Request body"): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "malformed_json", `${what} is not valid JSON; send a JSON object.`);
  }
  checkJson(value);
  return value;
}

/** Refuses a query string whose names or values break the text rules (a `%00`, say), naming the parameter. */
export function checkQuery(params: Record<string, string[]>): void {
  for (const [name, values] of Object.entries(params)) {
    const problem = textProblem(name) ?? values.map(textProblem).find((p) => p !== null) ?? null;
    if (problem) throw gateError({ path: [textProblem(name) ? "(query name)" : name], problem });
  }
}
