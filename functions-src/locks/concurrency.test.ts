/**
 * Many clients contending for overlapping keys. Concurrency is only meaningful on the real server (PGlite runs one
 * query at a time), so this suite runs only when DATABASE_URL is set. Every grant and release is recorded with
 * the database's timestamps and tokens; the checker then asserts that no two conflicting grants overlap in time and
 * that tokens only grow.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { agentHeaders, DATABASE_URL, freshPostgres, testApp } from "../../test/helpers.ts";
import type { Db } from "../db/port.ts";
import { keysConflict } from "./keys.ts";

const UNIVERSE = [
  "src/",
  "src/a.ts",
  "src/b.ts",
  "src/sub/",
  "src/sub/c.ts",
  "lib/",
  "lib/x.ts",
  "api:users",
  "README.md",
];

interface Grant {
  agent: string;
  keys: string[];
  tokens: number[];
  start: bigint;
  end: bigint;
}

/** Microseconds since the epoch from a timestamptz rendered by jsonb (any offset). */
function micros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$/.exec(iso)!;
  return BigInt(Date.parse(m[1]! + m[3]!)) * 1000n + BigInt(Math.round(Number(`0${m[2] ?? ""}`) * 1e6));
}

function pick(rng: () => number): string[] {
  const n = 1 + Math.floor(rng() * 3);
  const keys = new Set<string>();
  while (keys.size < n) keys.add(UNIVERSE[Math.floor(rng() * UNIVERSE.length)]!);
  return [...keys]; // Random order on purpose: the server must not deadlock on different orders.
}

function mulberry(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The checker: conflicting grants of different agents never overlap, and later conflicting grants have larger tokens. */
function check(grants: Grant[], atLeast: number) {
  expect(grants.length).toBeGreaterThanOrEqual(atLeast);
  const tokens = grants.flatMap((g) => g.tokens);
  expect(new Set(tokens).size).toBe(tokens.length);
  const sorted = [...grants].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let violations = 0;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    expect(a.end).toBeGreaterThan(a.start);
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (!a.keys.some((x) => b.keys.some((y) => keysConflict(x, y)))) continue;
      // b started no earlier than a; it must start strictly after a ended and carry larger tokens.
      if (b.start <= a.end) violations++;
      if (Math.min(...b.tokens) <= Math.max(...a.tokens)) violations++;
    }
  }
  expect(violations).toBe(0);
}

async function contend(
  clients: number,
  attemptsEach: number,
  attempt: (client: number, keys: string[]) => Promise<Grant | null>,
) {
  const grants: Grant[] = [];
  let refused = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const rng = mulberry(c + 1);
      for (let i = 0; i < attemptsEach; i++) {
        const g = await attempt(c, pick(rng));
        if (g) grants.push(g);
        else refused++;
      }
    }),
  );
  return { grants, refused };
}

// Concurrency is only meaningful on the real server (PGlite serialises every query); CI sets DATABASE_URL.
describe.runIf(!!DATABASE_URL)("lock concurrency on real Postgres", () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  beforeAll(async () => {
    pg = await freshPostgres({ max: 16 });
  });
  afterAll(async () => {
    await pg?.drop();
  });

  it("64 SQL clients on separate connections, thousands of attempts: no conflicting overlap, tokens grow", async () => {
    const CLIENTS = 64;
    const conns = Array.from({ length: CLIENTS }, () => postgres(pg.url, { max: 1, onnotice: () => {} }));
    try {
      const { grants, refused } = await contend(CLIENTS, 50, async (c, keys) => {
        const conn = conns[c]!;
        const [{ r }] =
          (await conn`select coord.acquire_locks('conc', ${`agent-${c}`}, null, ${keys}::text[], 'race', 600) as r`) as unknown as [
            { r: any },
          ];
        if (r.error) {
          expect(r.error.code).toBe("lock_conflict");
          return null;
        }
        await new Promise((res) => setTimeout(res, Math.random() * 2));
        const [{ x }] =
          (await conn`select coord.release_locks('conc', ${`agent-${c}`}, ${keys}::text[], false) as x`) as unknown as [
            { x: any },
          ];
        expect(x.released).toHaveLength(keys.length);
        return {
          agent: `agent-${c}`,
          keys,
          tokens: r.locks.map((l: { token: number }) => l.token),
          start: micros(r.locks[0].acquired_at),
          end: micros(x.released_at),
        };
      });
      expect(grants.length + refused).toBe(CLIENTS * 50);
      check(grants, 200);
      // Nothing left behind, and the events table saw every grant.
      expect(await pg.db.query("select 1 from coord.locks where repo = 'conc'")).toHaveLength(0);
      const [ev] = await pg.db.query<{ n: number }>(
        "select count(*)::int as n from coord.events where kind = 'lock.acquired' and data->>'repo' = 'conc'",
      );
      expect(ev!.n).toBe(grants.reduce((s, g) => s + g.keys.length, 0));
    } finally {
      await Promise.all(conns.map((c) => c.end()));
    }
  }, 60_000);

  it("64 concurrent HTTP clients through a listening server: same guarantees", async () => {
    const { app } = testApp(pg.db as Db);
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const call = (path: string, agent: string, body: unknown) =>
        fetch(`${base}${path}`, { method: "POST", headers: agentHeaders(agent), body: JSON.stringify(body) });
      const { grants } = await contend(64, 15, async (c, keys) => {
        const agent = `http-${c}`;
        const res = await call("/locks/acquire", agent, { repo: "conc-http", file_paths: keys, reason: "race" });
        if (res.status === 409) {
          await res.arrayBuffer();
          return null;
        }
        expect(res.status).toBe(200);
        const a = await res.json();
        const rel = await call("/locks/release", agent, { repo: "conc-http", file_paths: keys });
        expect(rel.status).toBe(200);
        const r = await rel.json();
        return {
          agent,
          keys: a.locks.map((l: { key: string }) => l.key),
          tokens: a.locks.map((l: { token: number }) => l.token),
          start: micros(a.locks[0].acquired_at),
          end: micros(r.released_at),
        };
      });
      check(grants, 40);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  it("waiters on one key are served one after another, each woken by the previous release", async () => {
    const { app } = testApp(pg.db as Db);
    const hold = await app.request("/locks/acquire", {
      method: "POST",
      headers: agentHeaders("w-0"),
      body: JSON.stringify({ repo: "conc-wait", file_path: "hot.ts" }),
    });
    expect(hold.status).toBe(200);
    const waiters = Array.from({ length: 8 }, async (_, i) => {
      const res = await app.request("/locks/acquire", {
        method: "POST",
        headers: agentHeaders(`w-${i + 1}`),
        body: JSON.stringify({ repo: "conc-wait", file_path: "hot.ts", wait_seconds: 15 }),
      });
      expect(res.status).toBe(200);
      await app.request("/locks/release", {
        method: "POST",
        headers: agentHeaders(`w-${i + 1}`),
        body: JSON.stringify({ repo: "conc-wait", file_path: "hot.ts" }),
      });
    });
    const t0 = Date.now();
    await app.request("/locks/release", {
      method: "POST",
      headers: agentHeaders("w-0"),
      body: JSON.stringify({ repo: "conc-wait", file_path: "hot.ts" }),
    });
    await Promise.all(waiters);
    // Eight hand-overs by notification take well under one safety-net re-check interval each.
    expect(Date.now() - t0).toBeLessThan(8_000);
  }, 30_000);
});

describe("the history checker", () => {
  it("fails on overlapping conflicting grants and on tokens that do not grow", () => {
    const g = (agent: string, keys: string[], token: number, start: number, end: number): Grant => ({
      agent,
      keys,
      tokens: [token],
      start: BigInt(start),
      end: BigInt(end),
    });
    const fine = Array.from({ length: 10 }, (_, i) => g(`a${i}`, ["src/"], i + 1, i * 10, i * 10 + 5));
    expect(() => check(fine, 10)).not.toThrow();
    expect(() => check([...fine, g("x", ["src/a.ts"], 99, 11, 12)], 10)).toThrow();
    expect(() => check([...fine, g("x", ["src/a.ts"], 0, 200, 210)], 10)).toThrow();
    expect(() => check([...fine, g("x", ["lib/a.ts"], 99, 11, 12)], 10)).not.toThrow();
  });
});
