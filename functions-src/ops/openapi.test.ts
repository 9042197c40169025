import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Validator } from "@seriousme/openapi-schema-validator";
import { apiDocument, CAPABILITIES, createApp } from "../app.ts";
import type { Db } from "../db/port.ts";
import { silentLog, testConfig } from "../../test/helpers.ts";
import { openApiPath } from "./openapi.ts";

// The routes themselves, as mounted: no database is needed to list them or to serve /openapi.json.
const app = createApp({ db: {} as Db, config: testConfig(), log: silentLog });
const doc = apiDocument();
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // Every $ref resolves.
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it("describes every route the app serves, and nothing it does not", () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !r.path.startsWith("/coordinator/"))
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => (METHODS as readonly string[]).includes(m))
          .map((m) => `${m} ${path}`),
      ),
    );
    expect(
      [...served].filter((r) => !documented.has(r)),
      "served but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((r) => !served.has(r)),
      "documented but not served",
    ).toEqual([]);
    for (const r of ["post /webhook/github", "post /webhook/callback/{resultId}", "get /health", "post /mcp"]) {
      expect(documented).toContain(r);
    }
  });

  it("gives every operation its parameters with their types, its refusals and the security schemes", () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: "http", scheme: "bearer" },
      apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
    });
    expect(doc.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    for (const op of CAPABILITIES.flatMap((c) => c.operations)) {
      const entry = (doc.paths as any)[openApiPath(op.http.path)][op.http.method.toLowerCase()];
      const statuses = Object.keys(entry.responses);
      expect(statuses, op.name).toEqual(expect.arrayContaining([String(op.http.status ?? 200), "400", "401", "403"]));
      expect(statuses, op.name).toEqual(expect.arrayContaining(["404", "429", "500", "503"]));
      if (op.http.method === "POST") expect(statuses, op.name).toEqual(expect.arrayContaining(["413", "415"]));
      for (const p of entry.parameters.filter((p: any) => !p.$ref)) {
        expect(p.schema?.type ?? p.schema?.anyOf, `${op.name} ${p.name}`).toBeDefined();
      }
    }
    const complete = (doc.paths as any)["/work/tasks/{task_id}/complete"].post;
    expect(complete.parameters[0]).toMatchObject({
      name: "task_id",
      in: "path",
      required: true,
      schema: { type: "string" },
    });
    expect(complete.requestBody.content["application/json"].schema.properties).not.toHaveProperty("task_id");
    expect(complete.requestBody.content["application/json"].schema.properties.result).toMatchObject({ type: "object" });
    const locks = (doc.paths as any)["/locks"].get.parameters;
    expect(locks.find((p: any) => p.name === "limit")).toMatchObject({
      in: "query",
      schema: { type: "integer", maximum: 500 },
    });
    expect(locks.find((p: any) => p.name === "file_paths")).toMatchObject({ in: "query", schema: { type: "array" } });
    const components = doc.components as any;
    expect(components.responses.Unauthorized.headers).toHaveProperty("WWW-Authenticate");
    expect(components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
  });

  it("is generated inside ops/: the generator imports nothing from outside it but types", () => {
    const source = readFileSync(new URL("./openapi.ts", import.meta.url), "utf8");
    const imports = [...source.matchAll(/^import (type )?[^;]*? from "([^"]+)";/gm)].map((m) => ({
      type: !!m[1],
      from: m[2]!,
    }));
    expect(imports.length).toBeGreaterThanOrEqual(3);
    expect(imports.filter((i) => !i.type && !i.from.startsWith("./"))).toEqual([]);
  });

  it("is what GET /openapi.json serves, without a key", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
