/**
 * Test harness shared by every suite: databases (PGlite from the migrated template; a fresh Postgres database per
 * file when DATABASE_URL is set), an app built over them, and request helpers.
 */
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe } from "vitest";
import postgres from "postgres";
import { CAPABILITIES, createApp } from "../functions-src/app.ts";
import type { Capability } from "../functions-src/ops/capability.ts";
import { type AppConfig, EDGE_DEFAULTS, type Env, loadConfig } from "../functions-src/config.ts";
import { migrate } from "../scripts/host/migrate.ts";
import { createPgliteDb } from "../scripts/host/pglite.ts";
import type { Db } from "../functions-src/db/port.ts";
import { createPostgresDb } from "../functions-src/db/postgres.ts";
import { createLogger } from "../functions-src/http/log.ts";

export const DATABASE_URL = process.env.DATABASE_URL;

/**
 * Three keys: an unbound agent-scope key (acts as whichever agent X-Agent-Id names, no operator rights), an
 * admin key, and a key bound to agent `bound-agent`.
 */
export const AGENT_KEY = "test-agent-key-0123456789";
export const ADMIN_KEY = "test-admin-key-0123456789";
export const BOUND_KEY = "test-bound-key-0123456789";
export const BOUND_AGENT = "bound-agent";

/**
 * The configuration tests run with: the three test keys, silent logs, no Host guard (requests are made in-process),
 * parsed from `env` like a host's; `overrides` replace parsed fields.
 */
export function testConfig(overrides: Partial<AppConfig> = {}, env: Env = {}): AppConfig {
  return {
    ...loadConfig(
      {
        COORDINATION_API_KEYS: `${AGENT_KEY},${BOUND_KEY}:${BOUND_AGENT}`,
        COORDINATION_ADMIN_KEYS: ADMIN_KEY,
        LOG_LEVEL: "silent",
        // Suites drive many requests per agent: the in-memory rates are off unless a test turns them on
        // (functions-src/ops/quotas.test.ts). The SQL caps (held locks, open tasks) keep their defaults.
        COORDINATOR_REQUEST_RATE: "0",
        COORDINATOR_MEMORY_RATE: "0",
        ...env,
      },
      EDGE_DEFAULTS,
    ),
    ...overrides,
  };
}

export const silentLog = createLogger("silent");

/** A PGlite database restored from the migrated template (fast), in memory. */
export async function pgliteFromTemplate(): Promise<Db> {
  const file = process.env.COORD_TEST_PGLITE_TEMPLATE;
  if (!file) throw new Error("COORD_TEST_PGLITE_TEMPLATE is not set: run tests through vitest (test/global-setup.ts)");
  const bytes = await readFile(file);
  return createPgliteDb({ loadDataDir: new Blob([bytes]) });
}

/** A brand-new database on the Postgres server of DATABASE_URL, dropped again by `drop()`. */
export async function freshPostgres(
  options: { migrate?: boolean; max?: number } = {},
): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  if (!DATABASE_URL) throw new Error("DATABASE_URL is not set");
  const name = `coord_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const db = createPostgresDb(url.toString(), { max: options.max ?? 10 });
  if (options.migrate !== false) await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export interface TestDatabase {
  kind: "pglite" | "postgres";
  db: Db;
  /** Set for Postgres: the URL of this file's own database. */
  url?: string;
}

/**
 * Runs a suite once per database: always on PGlite, and on real Postgres when DATABASE_URL is set (the
 * contract of `npm test`: it passes with no database server, and `.ci/run` sets DATABASE_URL so CI runs both).
 * The callback receives a getter, valid inside tests and hooks.
 */
export function forEachDatabase(name: string, suite: (get: () => TestDatabase) => void): void {
  const kinds: Array<"pglite" | "postgres"> = DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
  for (const kind of kinds) {
    describe(`${name} [${kind}]`, () => {
      let current: TestDatabase | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        if (kind === "pglite") {
          current = { kind, db: await pgliteFromTemplate() };
          drop = () => current!.db.close();
        } else {
          const pg = await freshPostgres();
          current = { kind, db: pg.db, url: pg.url };
          drop = pg.drop;
        }
      });
      afterAll(async () => {
        await drop?.();
      });
      suite(() => {
        if (!current) throw new Error("database not ready: use the getter inside tests or hooks");
        return current;
      });
    });
  }
}

export interface TestAppOptions {
  /** What to mount (default: every capability). */
  capabilities?: readonly Capability[];
  /** Environment the configuration is parsed from, on top of the test keys (GITHUB_TOKEN, GITHUB_API_URL, …). */
  env?: Env;
  /** Fields that replace the parsed configuration's (maxBodyBytes, apiKeys, …). */
  config?: Partial<AppConfig>;
  /** The app's outbound fetch (GitHub, E2B stand-ins). */
  fetch?: typeof fetch;
}

/** Builds the app over a database with the test keys. */
export function testApp(db: Db, options: TestAppOptions = {}) {
  const app = createApp(
    { db, config: testConfig(options.config, options.env), log: silentLog, fetch: options.fetch },
    options.capabilities ?? CAPABILITIES,
  );
  return { app, deps: app.deps };
}

/** Headers of an ordinary agent (agent scope, unbound key), with a JSON content type. */
export function agentHeaders(agentId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${AGENT_KEY}`, "X-Agent-Id": agentId, "Content-Type": "application/json", ...extra };
}

/** Headers of an operator (admin scope) acting as `agentId`. */
export function adminHeaders(agentId = "operator", extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${ADMIN_KEY}`, "X-Agent-Id": agentId, "Content-Type": "application/json", ...extra };
}

/** Headers of the caller whose key is bound to `bound-agent`. */
export function boundHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: `Bearer ${BOUND_KEY}`,
    "X-Agent-Id": BOUND_AGENT,
    "Content-Type": "application/json",
    ...extra,
  };
}

/** The JSON of the first text content of an MCP resources/read result. */
export function resourceJson(result: { contents: Array<{ text?: unknown } & Record<string, unknown>> }): any {
  const first = result.contents[0];
  if (!first || typeof first.text !== "string") throw new Error("resource has no text content");
  return JSON.parse(first.text);
}

/**
 * Stops a child started with `detached: true` and everything it started (npm → node → deno task → deno run): the
 * whole process group gets SIGTERM; resolves when the child has exited.
 */
export async function stopProcessGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  await exited;
}
