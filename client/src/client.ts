/**
 * A typed client for cloud agents, driven by the same operation declarations the server mounts: the input and
 * output types of every call come from the operation's zod schemas, so client and server cannot drift.
 *
 *   const coord = createCoordinatorClient({ baseUrl, apiKey, agentId: "claude-api-1" });
 *   const me = await coord.call(whoami, {});
 */
import type { z } from "zod";
import type { Operation } from "../../functions-src/ops/operation.ts";

export interface ClientOptions {
  /** The coordinator's base URL (local `http://127.0.0.1:8787`, or the Supabase function URL). */
  baseUrl: string;
  apiKey: string;
  agentId?: string;
  agentType?: string;
  sessionId?: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** A refusal from the coordinator: the HTTP status and the error body's code, message and details. */
export class CoordinatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = "CoordinatorError";
  }
}

/** What the client needs of an operation: its route and its schemas (for the types). */
type AnyOperation = Pick<Operation, "http" | "input" | "output">;

export function createCoordinatorClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.apiKey}`,
    ...(options.agentId ? { "X-Agent-Id": options.agentId } : {}),
    ...(options.agentType ? { "X-Agent-Type": options.agentType } : {}),
    ...(options.sessionId ? { "X-Session-Id": options.sessionId } : {}),
  };

  return {
    /**
     * Calls one operation over REST and returns its typed answer; throws CoordinatorError on a refusal. Takes an
     * operation (e.g. `submitChanges`).
     */
    async call<Op extends AnyOperation>(op: Op, input: z.input<Op["input"]>): Promise<z.output<Op["output"]>> {
      const fields: Record<string, unknown> = { ...(input as Record<string, unknown>) };
      const path = op.http.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
        const value = fields[name];
        delete fields[name];
        return encodeURIComponent(String(value));
      });
      let url = `${base}${path}`;
      const init: RequestInit = { method: op.http.method, headers: { ...headers } };
      if (op.http.method === "POST") {
        init.body = JSON.stringify(fields);
        (init.headers as Record<string, string>)["Content-Type"] = "application/json";
      } else {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(fields)) {
          if (v === undefined) continue;
          for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
        }
        if ([...qs].length) url += `?${qs}`;
      }
      const res = await doFetch(url, init);
      const body = (await res.json().catch(() => null)) as {
        error?: { code: string; message: string } & Record<string, unknown>;
      } | null;
      if (!res.ok) {
        const { code = "http_error", message = res.statusText, ...details } = body?.error ?? {};
        throw new CoordinatorError(res.status, code, message, details);
      }
      return body as z.output<Op["output"]>;
    },
  };
}
