/**
 * fast-check arbitraries derived from a JSON Schema (an OpenAPI operation's input, an MCP tool's inputSchema): a
 * plausible valid value for each field, and for the input as a whole mostly invalid variants — wrong types, values
 * out of range, NUL and lone surrogates, nesting far past any limit, oversized strings and arrays, unknown ids,
 * prototype keys (`__proto__`, `constructor`) — with one or two fields broken at a time, so validation is reached
 * field by field and not only at the first one.
 */
import fc from "fast-check";

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

/** Nesting far past the gate's limit of 64, built once. */
function nested(levels: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { d: v };
  return v;
}
const DEEP = nested(200);
const VERY_DEEP = nested(3000);
const BIG_STRING = "x".repeat(300_000);
const HUGE_STRING = "y".repeat(1_200_000);

/** Strings that have broken things before, or could. */
const NASTY_STRINGS = fc.constantFrom(
  "a\u0000b",
  "\u0000",
  "\ud800",
  "x\udc00y",
  "\ud83d",
  "😀\u0000",
  "",
  " ",
  "../../etc/passwd",
  "/absolute/path",
  "C:\\windows",
  "'; drop table coord.tasks; --",
  "%00",
  "\\u0000",
  "null",
  "__proto__",
  "constructor",
  "00000000-0000-4000-8000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "9".repeat(400),
  "\u202e\u200b\ufeff",
  "<script>alert(1)</script>",
  "a".repeat(2001),
);

/** Any hostile JSON value, whatever the field expects. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: NASTY_STRINGS },
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0.000001,
    1e308,
    -1e308,
    2 ** 53,
    -(2 ** 63),
    Number.MAX_SAFE_INTEGER + 2,
    [],
    {},
    [null],
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
    DEEP,
    VERY_DEEP,
    BIG_STRING,
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 300 }),
  fc.uuid(),
  fc.jsonValue({ maxDepth: 4 }),
);

function types(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? "null" : typeof v)))];
  return [];
}

/** A plausible valid value for a schema (bounded sizes): the base the invalid variants break one field of. */
export function valid(s: JsonSchema): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map(valid));
  const t = types(s)[0];
  switch (t) {
    case "string": {
      if (s.format === "uuid") return fc.uuid();
      if (s.format === "date-time") return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 200));
        } catch {
          /* a pattern fast-check cannot generate from: fall through */
        }
      }
      return fc.string({ minLength: Math.max(1, s.minLength ?? 0), maxLength: Math.min(s.maxLength ?? 20, 20) });
    }
    case "integer":
    case "number": {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1000);
      const lo = Math.ceil(Math.max(min, -1e6));
      const hi = Math.floor(Math.min(max, 1e6));
      return lo <= hi ? fc.integer({ min: lo, max: hi }) : fc.constant(Math.ceil(min));
    }
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(s.items ? valid(s.items) : fc.string(), {
        minLength: s.minItems ?? 0,
        maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)),
      });
    case "object":
      return record(s);
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value that breaks a field's own rules (type, range, length, pattern, enum), or a hostile one. */
export function invalid(s: JsonSchema): fc.Arbitrary<unknown> {
  const specific: Array<fc.Arbitrary<unknown>> = [];
  const t = types(s)[0];
  if (s.enum?.length) specific.push(fc.string({ maxLength: 12 }).filter((v) => !s.enum!.includes(v)));
  if (t === "string") {
    if (s.maxLength !== undefined) specific.push(fc.constant("z".repeat(s.maxLength + 1)));
    if (s.minLength) specific.push(fc.constant(""));
    if (s.pattern || s.format) specific.push(NASTY_STRINGS);
    specific.push(fc.integer(), fc.constant(["a"]));
  }
  if (t === "integer" || t === "number") {
    if (s.minimum !== undefined) specific.push(fc.constant(s.minimum - 1));
    if (s.maximum !== undefined) specific.push(fc.constant(s.maximum + 1));
    if (t === "integer") specific.push(fc.constant(0.5), fc.constant(Number.MAX_SAFE_INTEGER + 2));
    specific.push(fc.constantFrom("1", "one", true));
  }
  if (t === "array") {
    if (s.maxItems !== undefined) specific.push(fc.constant(Array.from({ length: s.maxItems + 1 }, () => "a")));
    if (s.items) specific.push(fc.array(invalid(s.items), { minLength: 1, maxLength: 3 }));
    specific.push(fc.constant("not-an-array"), fc.constant({ 0: "a" }));
  }
  if (t === "object") specific.push(fc.constant("not-an-object"), fc.constant([{}]));
  if (t === "boolean") specific.push(fc.constantFrom("true", 1, 0, "yes"));
  return specific.length ? fc.oneof({ weight: 2, arbitrary: fc.oneof(...specific) }, hostile) : hostile;
}

// Valid values that only cost time: a long-poll waits up to 20 s for nothing. Invalid ones are still generated.
const SLOW_WHEN_VALID: Record<string, unknown> = { wait_seconds: 0 };

/** An object of the schema's properties: required ones always, optional ones sometimes. */
function record(s: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const validOf = (name: string, p: JsonSchema) =>
    Object.hasOwn(SLOW_WHEN_VALID, name) ? fc.constant(SLOW_WHEN_VALID[name]) : valid(p);
  return fc
    .tuple(
      ...props.map(([name, p]) =>
        required.has(name) ? validOf(name, p) : fc.option(validOf(name, p), { nil: undefined }),
      ),
    )
    .map((values) => {
      const out: Record<string, unknown> = {};
      props.forEach(([name], i) => {
        if (values[i] !== undefined) out[name] = values[i];
      });
      return out;
    });
}

/**
 * Mostly invalid inputs for an object schema: a valid base with one or two fields broken, extra or prototype keys,
 * required fields missing, or a body that is not an object at all.
 */
export function invalidInput(s: JsonSchema): fc.Arbitrary<unknown> {
  const props = Object.entries(s.properties ?? {});
  const base = record(s);
  const broken = props.length
    ? fc.tuple(base, fc.subarray(props, { minLength: 1, maxLength: Math.min(2, props.length) })).chain(([b, fields]) =>
        fc.tuple(...fields.map(([, p]) => invalid(p))).map((bad) => {
          const out = { ...b };
          fields.forEach(([name], i) => {
            out[name] = bad[i];
          });
          return out;
        }),
      )
    : base;
  // Parsed from text, so `__proto__` is an own key (as a JSON body's would be), not the prototype.
  const extra = fc
    .tuple(base, fc.constantFrom("__proto__", "constructor", "prototype", "unknown_field"), hostile)
    .map(([b, k, v]) => {
      const rest = JSON.stringify(b).slice(1, -1);
      return JSON.parse(`{${JSON.stringify(k)}: ${safeJson(v)}${rest ? `, ${rest}` : ""}}`) as unknown;
    });
  const missing = base.map((b) => {
    const out = { ...b };
    for (const r of s.required ?? []) delete out[r];
    return out;
  });
  return fc.oneof(
    { weight: 6, arbitrary: broken },
    { weight: 1, arbitrary: extra },
    { weight: 1, arbitrary: missing },
    { weight: 1, arbitrary: hostile },
    { weight: 1, arbitrary: fc.constant(HUGE_STRING) },
  );
}

/** JSON text of a value, "null" for what JSON cannot say. */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return "null";
  }
}
