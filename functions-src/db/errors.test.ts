import { describe, expect, it } from "vitest";
import { createPgliteDb } from "../../scripts/host/pglite.ts";
import { DatabaseUnavailable, isUnavailable, violatedConstraint } from "./errors.ts";

describe("what a database error means for the caller", () => {
  it("connection failures, shutdowns, timeouts and a closed PGlite are 'unavailable'; a bug is not", () => {
    for (const code of [
      "ECONNREFUSED",
      "ECONNRESET",
      "CONNECTION_CLOSED",
      "CONNECT_TIMEOUT",
      "57P01",
      "57P03",
      "08006",
      "53300",
      "40001",
    ]) {
      expect(isUnavailable(Object.assign(new Error("x"), { code })), code).toBe(true);
    }
    expect(isUnavailable(new DatabaseUnavailable("no connection"))).toBe(true);
    expect(
      isUnavailable(new TypeError("fetch failed", { cause: Object.assign(new Error(), { code: "ECONNREFUSED" }) })),
    ).toBe(true);
    for (const code of ["42883", "22P02", "23514", "XX000", undefined]) {
      expect(isUnavailable(Object.assign(new Error("x"), { code })), String(code)).toBe(false);
    }
    expect(violatedConstraint({ code: "23514", table_name: "memories", constraint_name: "memories_check" })).toBe(
      "memories.memories_check",
    );
    expect(violatedConstraint({ code: "22P02", constraint_name: "x" })).toBeNull();
  });

  // PGlite has no statement timeout (Postgres in WASM has no timer signal to cancel with): only closing is tested.
  it("PGlite: a query on a closed database is 'unavailable'", async () => {
    const db = await createPgliteDb();
    await db.close();
    const closed = await db.query("select 1").then(
      () => null,
      (e: unknown) => e,
    );
    expect(closed).toBeTruthy();
    expect(isUnavailable(closed)).toBe(true);
  }, 120_000);
});
