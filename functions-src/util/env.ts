/** Reading environment variables into typed values; used only by the configuration loaders. */
import { z } from "zod";

/** An environment record: what hosts pass in (process.env, Deno.env.toObject()). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown for an environment that cannot work; the host prints the message and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Comma-separated values, trimmed, empty ones dropped. */
export function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** An integer variable within bounds, or the fallback when unset; anything else is a ConfigError naming it. */
export function intVar(env: Env, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw);
  if (!parsed.success || !/^-?\d+$/.test(raw)) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return parsed.data;
}

/** One of a fixed set of values, or the fallback when unset. */
export function enumVar<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim() || fallback;
  if (!values.includes(raw as T)) throw new ConfigError(`${name} must be one of ${values.join(", ")}`);
  return raw as T;
}

/** A trimmed string, or null when unset or blank. */
export function stringVar(env: Env, name: string): string | null {
  return env[name]?.trim() || null;
}
