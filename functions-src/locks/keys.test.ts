import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { forEachDatabase } from "../../test/helpers.ts";
import { keysConflict, MAX_KEY_DEPTH, MAX_KEY_LENGTH, normalizeKey } from "./keys.ts";

// Raw inputs built from the characters that matter to normalisation, so the interesting cases are common.
const segment = fc.oneof(
  fc.constantFrom("", ".", "..", "src", "a", "b.ts", "auth", "x y", "é"),
  fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom("a", "b", ".", "-", "_", "é", "\\") }),
);
const rawPath = fc
  .tuple(
    fc.constantFrom("", "./", "/", "api:", "db:", "C:\\"),
    fc.array(segment, { maxLength: 8 }),
    fc.constantFrom("/", "\\", "//"),
    fc.constantFrom("", "/", "\\", "/."),
  )
  .map(([prefix, segs, sep, suffix]) => prefix + segs.join(sep) + suffix);
// Valid normalised keys: a few segments from a small alphabet, so that prefixes and overlaps are frequent.
const key = fc
  .tuple(fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segs, dir]) => segs.join("/") + (dir ? "/" : ""));

function valid(k: string): boolean {
  return (
    k.length >= 1 &&
    k.length <= MAX_KEY_LENGTH &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the oracle must reject control characters
    !/[\u0000-\u001f\u007f\\]/.test(k) &&
    !k.startsWith("/") &&
    !k.includes("//") &&
    !/(^|\/)\.\.?(\/|$)/.test(k) &&
    k.replace(/\/$/, "").split("/").length <= MAX_KEY_DEPTH
  );
}

describe("normalizeKey (property)", () => {
  it("produces valid, idempotent keys and keeps the directory flag", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const r = normalizeKey(raw);
        if (!r.ok) return;
        expect(valid(r.key)).toBe(true);
        expect(normalizeKey(r.key)).toEqual(r);
        const lastRaw = raw.replaceAll("\\", "/").split("/").pop();
        expect(r.key.endsWith("/")).toBe(lastRaw === "" || lastRaw === "." || lastRaw === "..");
      }),
      { numRuns: 2000 },
    );
  });

  it("never escapes the root: a key never contains a .. segment and absolute inputs are refused", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const r = normalizeKey(raw);
        if (/^(\/|[A-Za-z]:[\\/])/.test(raw)) expect(r.ok).toBe(false);
        if (r.ok) expect(r.key.split("/")).not.toContain("..");
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses NUL, control characters and over-long keys", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom("\u0000", "\u0001", "\u001f", "\u007f"), fc.string(), (a, c, b) => {
        expect(normalizeKey(`x${a}${c}${b}`).ok).toBe(false);
      }),
    );
    expect(normalizeKey("a".repeat(MAX_KEY_LENGTH)).ok).toBe(true);
    expect(normalizeKey("a".repeat(MAX_KEY_LENGTH + 1)).ok).toBe(false);
  });

  it("normalises the documented examples", () => {
    expect(normalizeKey("./src\\\\auth//login.ts")).toEqual({ ok: true, key: "src/auth/login.ts" });
    expect(normalizeKey("src/auth/../db/")).toEqual({ ok: true, key: "src/db/" });
    expect(normalizeKey("src/.")).toEqual({ ok: true, key: "src/" });
    expect(normalizeKey("api:/users//list")).toEqual({ ok: true, key: "api:users/list" });
    expect(normalizeKey("../x").ok).toBe(false);
  });
});

describe("overlap rule (property)", () => {
  it("is symmetric and reflexive; a scope conflicts exactly with the keys it prefixes", () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(keysConflict(a, b)).toBe(keysConflict(b, a));
        expect(keysConflict(a, a)).toBe(true);
        const inside = (outer: string, inner: string) => outer.endsWith("/") && inner.startsWith(outer);
        expect(keysConflict(a, b)).toBe(a === b || inside(a, b) || inside(b, a));
      }),
    );
  });
});

forEachDatabase("lock keys in SQL", (get) => {
  it("SQL accepts every normalised key, and its overlap rule and ancestors agree with TypeScript", async () => {
    const keys = fc.sample(
      fc.oneof(
        key,
        rawPath
          .map((r) => normalizeKey(r))
          .filter((r) => r.ok)
          .map((r) => (r as { key: string }).key),
      ),
      300,
    );
    const pairs = fc.sample(fc.tuple(key, key), 300);
    const [row] = await get().db.query<{ valid: boolean[]; conflict: boolean[]; anc: string[][] }>(
      `select (select array_agg(coord.lock_key_valid(k) order by i) from unnest($1::text[]) with ordinality as t(k, i)) as valid,
              (select array_agg(coord.lock_keys_conflict(a, b) order by i) from unnest($2::text[], $3::text[]) with ordinality as t(a, b, i)) as conflict,
              (select array_agg(array_to_string(coord.lock_ancestors(k), '|') order by i) from unnest($1::text[]) with ordinality as t(k, i)) as anc`,
      [keys, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    expect(row!.valid).toEqual(keys.map(() => true));
    expect(row!.conflict).toEqual(pairs.map(([a, b]) => keysConflict(a, b)));
    const ancestors = (k: string) => {
      const parts = k.split("/");
      return parts
        .slice(0, -1)
        .map((_, i) => `${parts.slice(0, i + 1).join("/")}/`)
        .filter((a) => a !== k);
    };
    expect(row!.anc).toEqual(keys.map((k) => ancestors(k).join("|")));
  });
});
