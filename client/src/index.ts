/**
 * @agent-coordinator/client: a typed client for Agent Coordinator's REST API and its event stream. Fetch only, no
 * dependencies: runs on Node 20+, Deno and browsers. The operation types and routes are generated from the server's
 * operation declarations.
 */
export {
  AgentCoordinationClient,
  CoordinatorError,
  identityHeaders,
  normalizeBaseUrl,
  type Identity,
} from "./client.ts";
export {
  type CoordinatorEvent,
  EventStream,
  type EventsOptions,
  type ResetEvent,
  type ServerSentEvent,
  ServerSentEventParser,
  type StreamEvent,
} from "./events.ts";
export type { CallOptions, ClientOptions, FetchLike, RetryOptions } from "./types.ts";
export * from "./generated/operations.ts";
