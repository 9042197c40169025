import { z } from "zod";
import type { Capability } from "./capability.ts";
import { VERSION } from "../version.ts";

/** The OpenAPI 3.1 document, generated from the same operation declarations the routes and tools use. */
export function openApiDocument(capabilities: readonly Capability[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const cap of capabilities) {
    for (const op of cap.operations) {
      const path = op.http.path.replace(/:([A-Za-z_]+)/g, "{$1}");
      const method = op.http.method.toLowerCase();
      const input = z.toJSONSchema(op.input, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
      const params = [...op.http.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      }));
      paths[path] ??= {};
      paths[path][method] = {
        operationId: op.name,
        summary: op.title,
        description: op.description,
        tags: [cap.name],
        parameters: [
          ...params,
          ...(method === "post"
            ? []
            : Object.entries((input.properties ?? {}) as Record<string, unknown>)
                .filter(([name]) => !params.some((p) => p.name === name))
                .map(([name, schema]) => ({ name, in: "query", schema }))),
        ],
        ...(method === "post"
          ? { requestBody: { required: true, content: { "application/json": { schema: input } } } }
          : {}),
        responses: {
          [String(op.http.status ?? 200)]: {
            description: "OK",
            content: {
              "application/json": { schema: z.toJSONSchema(op.output, { io: "output", unrepresentable: "any" }) },
            },
          },
          "4XX": { description: "Refused: `{ error: { code, message, … } }` says what to fix." },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "Agent Coordinator", version: VERSION },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
