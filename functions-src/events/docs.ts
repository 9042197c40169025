/** The OpenAPI description of `GET /events`, the one events route that is not an operation (it streams). */
import { errorResponse, type PathItem } from "../ops/openapi.ts";

const query = (name: string, description: string, schema: Record<string, unknown> = { type: "string" }) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

export const EVENTS_DOCS: Record<string, PathItem> = {
  "/events": {
    get: {
      operationId: "event_stream",
      summary: "Event stream (SSE)",
      description:
        "Server-Sent Events: `id` is the event id, `event` its kind, `data` compact JSON (what this key may see). " +
        "Resume with Last-Event-ID (or ?after=): nothing lost, nothing repeated; past the backlog bound a `reset` " +
        "event says to re-read state. A comment heartbeat every 15 s; the stream may end (edge wall clock) and the " +
        "client reconnects. With ?format=json it answers the audit query (as GET /events/log).",
      tags: ["events"],
      parameters: [
        query("kinds", "Kinds or prefixes (lock., task.completed), repeated or comma-separated", {
          type: "array",
          items: { type: "string" },
        }),
        query("repo", "Only events of this repository"),
        query("after", "Resume after this event id (as Last-Event-ID)", { type: "integer", minimum: 0 }),
        query("format", "json: the audit query instead of a stream", { type: "string", enum: ["json"] }),
        {
          name: "Last-Event-ID",
          in: "header",
          required: false,
          description: "The id of the last event received",
          schema: { type: "string" },
        },
      ],
      responses: {
        "200": {
          description: "The stream (or, with format=json, a page of the audit log)",
          content: {
            "text/event-stream": { schema: { type: "string" } },
            "application/json": { schema: { type: "object" } },
          },
        },
        "400": errorResponse(400),
        "401": errorResponse(401),
        "403": errorResponse(403),
        "500": errorResponse(500),
        "503": errorResponse(503),
      },
    },
  },
};
