import { expect, it } from "vitest";
import { createCoordinatorClient, CoordinatorError } from "./client.ts";
import { heartbeat, whoami } from "../../functions-src/identity/capability.ts";
import { status } from "../../functions-src/status/capability.ts";
import { submitChanges, verificationStatus } from "../../functions-src/verification/capability.ts";
import { AGENT_KEY, forEachDatabase, testApp } from "../../test/helpers.ts";

forEachDatabase("typed client", (get) => {
  const client = (extra: { agentId?: string; sessionId?: string; apiKey?: string } = {}) => {
    const { app } = testApp(get().db);
    return createCoordinatorClient({
      baseUrl: "http://localhost/coordinator",
      apiKey: extra.apiKey ?? AGENT_KEY,
      agentId: extra.agentId ?? "cloud-1",
      sessionId: extra.sessionId,
      fetch: async (url, init) => app.request(url, init),
    });
  };

  it("calls GET and POST operations with typed answers", async () => {
    const me = await client().call(whoami, {});
    expect(me.agent_id).toBe("cloud-1");
    const s = await client().call(status, {});
    expect(s.schema_version).toMatch(/^\d{4}_/);
    const hb = await client({ sessionId: "cloud-s1" }).call(heartbeat, {});
    expect(hb.session_id).toBe("cloud-s1");
  });

  it("calls the gateway's operations (path parameters filled from the input)", async () => {
    const changeset = await client().call(submitChanges, {
      repo: "acme/client",
      commit_sha: "c".repeat(40),
      files: [{ path: "README.md", status: "modified" }],
    });
    expect(changeset).toMatchObject({ repo: "acme/client", tier: 0 });
    const again = await client().call(verificationStatus, { id: changeset.id });
    expect(again.id).toBe(changeset.id);
  });

  it("turns refusals into CoordinatorError with the code and message", async () => {
    const err = await client({ apiKey: "wrong-key-000000000000" })
      .call(whoami, {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect(err).toMatchObject({ status: 401, code: "invalid_key" });
    const noSession = await client()
      .call(heartbeat, {})
      .catch((e: unknown) => e);
    expect(noSession).toMatchObject({ status: 400, code: "missing_session_id" });
  });
});
