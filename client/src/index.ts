/**
 * @agent-coordinator/client: a typed client for Agent Coordinator's REST API. Fetch only, no dependencies: runs on
 * Node 20+, Deno and browsers. The operation types and routes are generated from the server's operation declarations.
 */
export {
  AgentCoordinationClient,
  CoordinatorError,
  identityHeaders,
  normalizeBaseUrl,
  type Identity,
} from "./client.ts";
export type { CallOptions, ClientOptions, FetchLike, RetryOptions } from "./types.ts";
export * from "./generated/operations.ts";
