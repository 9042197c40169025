import { expect, it } from "vitest";
import { CAPABILITIES } from "../app.ts";
import { agentHeaders, forEachDatabase, testApp } from "../../test/helpers.ts";

/**
 * Bad input gets a clear 4xx, never a 5xx: every operation of every capability, called with an empty body, with
 * every field of the wrong type, and with unknown ids in its path.
 */
forEachDatabase("every route refuses bad input with a 4xx", (get) => {
  const ops = CAPABILITIES.flatMap((c) => c.operations);
  const WRONG: unknown[] = [12345, "not-the-right-type", [1, "x"], { nested: true }, -1, null];

  it("answers each operation's bad input with a 4xx and an error code", async () => {
    const { app } = testApp(get().db);
    const failures: string[] = [];
    for (const op of ops) {
      const path = op.http.path.replace(/:([A-Za-z_]+)/g, "00000000-0000-4000-8000-000000000000");
      const fields = Object.keys(op.input.shape);
      const bodies: Array<Record<string, unknown>> = [
        {},
        ...WRONG.map((w) => Object.fromEntries(fields.map((f) => [f, w]))),
      ];
      for (const body of bodies) {
        const headers = agentHeaders("fuzzer", { "X-Session-Id": "fuzz-session" });
        const res =
          op.http.method === "POST"
            ? await app.request(path, { method: "POST", headers, body: JSON.stringify(body) })
            : await app.request(
                `${path}?${new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]))}`,
                { method: op.http.method, headers },
              );
        if (res.status >= 500)
          failures.push(
            `${op.http.method} ${op.http.path} ${JSON.stringify(body)} → ${res.status} ${await res.text()}`,
          );
        else if (res.status >= 400) {
          const err = (await res.json()) as { error?: { code?: string; message?: string } };
          if (!err.error?.code || !err.error.message)
            failures.push(`${op.http.method} ${op.http.path} → ${res.status} without code/message`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
