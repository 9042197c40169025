import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { apiDocument } from "../functions-src/app.ts";
import { API_REFERENCE, renderApiReference } from "./api-reference.ts";

describe("docs/API_REFERENCE.md", () => {
  it("is what `npm run docs:api` renders from the OpenAPI document (run it after changing an operation)", async () => {
    const committed = await readFile(API_REFERENCE, "utf8");
    // Compared line by line so a failure points at the operation that changed.
    expect(committed.split("\n")).toEqual(renderApiReference(apiDocument()).split("\n"));
  });

  it("lists every route of the document", () => {
    const text = renderApiReference(apiDocument());
    for (const [path, item] of Object.entries(apiDocument().paths)) {
      for (const method of Object.keys(item)) expect(text).toContain(`### \`${method.toUpperCase()} ${path}\``);
    }
  });
});
