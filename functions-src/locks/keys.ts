/**
 * Lock keys: normalisation of what agents send, and the overlap rule. The SQL side re-checks every stored key
 * (`coord.lock_key_valid`) and implements the same overlap rule (`coord.lock_keys_conflict`); the property tests
 * hold the two together.
 */
import { z } from "zod";

export const MAX_KEY_LENGTH = 1024;
export const MAX_KEY_DEPTH = 32;
/** Raw input is bounded before normalisation so the work per key stays small. */
export const MAX_RAW_KEY_LENGTH = 4096;
export const LOGICAL_PREFIX = /^(api|db|feature):/;

export type KeyResult = { ok: true; key: string } | { ok: false; error: string };

/**
 * Normalises a lock key: `\` → `/`, duplicate slashes collapsed, `.` segments dropped, `..` resolved (never above the
 * repository root), leading `./` removed; a trailing `/` (or a final `.`/`..`) marks a directory scope. Absolute
 * paths, control characters, the root itself, over-long and over-deep keys are refused with a reason. Logical keys
 * (`api:`, `db:`, `feature:`) keep their prefix and normalise the rest the same way.
 */
export function normalizeKey(raw: string): KeyResult {
  if (raw.includes("\u0000")) return { ok: false, error: "contains a NUL character" };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0001-\u001f\u007f]/.test(raw)) return { ok: false, error: "contains a control character" };
  const prefix = LOGICAL_PREFIX.exec(raw)?.[0] ?? "";
  const body = raw.slice(prefix.length).replaceAll("\\", "/");
  if (prefix === "") {
    if (body.startsWith("/") || /^[A-Za-z]:(\/|$)/.test(body)) {
      return {
        ok: false,
        error: "is absolute; send a path relative to the repository root (src/a.ts, not /home/…/src/a.ts)",
      };
    }
  }
  const segments = body.split("/");
  const last = segments[segments.length - 1];
  const isDir = last === "" || last === "." || last === "..";
  const out: string[] = [];
  for (const seg of segments) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) return { ok: false, error: "uses .. to escape the repository root" };
      out.pop();
      continue;
    }
    out.push(seg);
  }
  if (out.length === 0) {
    return {
      ok: false,
      error: prefix ? `needs a name after ${prefix}` : "names the repository root; lock a file or directory inside it",
    };
  }
  if (out.length > MAX_KEY_DEPTH) return { ok: false, error: `is more than ${MAX_KEY_DEPTH} levels deep` };
  const key = prefix + out.join("/") + (isDir ? "/" : "");
  if (key.length > MAX_KEY_LENGTH)
    return { ok: false, error: `is longer than ${MAX_KEY_LENGTH} characters after normalisation` };
  return { ok: true, key };
}

/** The overlap rule: equal keys conflict, and a scope (key ending in `/`) conflicts with every key inside it. */
export function keysConflict(a: string, b: string): boolean {
  return a === b || (a.endsWith("/") && b.startsWith(a)) || (b.endsWith("/") && a.startsWith(b));
}

/** What kind of resource a key names. */
export function keyKind(key: string): "logical" | "directory" | "file" {
  if (LOGICAL_PREFIX.test(key)) return "logical";
  return key.endsWith("/") ? "directory" : "file";
}

/** A lock key as input: validated and normalised by one zod transform. */
export const LockKey = z
  .string()
  .min(1, "must not be empty")
  .max(MAX_RAW_KEY_LENGTH)
  .transform((raw, ctx) => {
    const r = normalizeKey(raw);
    if (r.ok) return r.key;
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)} ${r.error}`,
    });
    return z.NEVER;
  })
  .describe("Repo-relative path; a directory ends in /; or an api:, db: or feature: key");

/** A repository namespace name (org/name style). */
export const Repo = z
  .string()
  .max(200)
  .regex(
    /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*(\/[A-Za-z0-9_@-][A-Za-z0-9._@-]*)*$/,
    "use letters, digits and . _ @ -, segments separated by / and not starting with . (e.g. org/name)",
  );

/** A repository namespace; `default` when none is given. */
export const RepoName = Repo.default("default");
