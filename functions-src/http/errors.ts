import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "./log.ts";

/**
 * A refusal the caller can act on: an HTTP status, a stable machine-readable code, a message that says what
 * to do next, and optional details (for example the locks that blocked an acquire). Services throw it; the
 * REST error handler and the MCP tool adapter both render it.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The JSON body of every error answer. */
export function errorBody(c: Context, code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, ...details, request_id: c.get("requestId") as string | undefined } };
}

/** Turns HTTPExceptions Hono raises itself (malformed JSON, body limit) into our error shape. */
function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 413) {
    return new ApiError(413, "body_too_large", "Request body is too large; send less data per call (split batches).");
  }
  if (err.status === 400 && /json/i.test(err.message)) {
    return new ApiError(400, "malformed_json", "Request body is not valid JSON; send a JSON object.");
  }
  return new ApiError(err.status as ContentfulStatusCode, "http_error", err.message || "Request refused.");
}

/** One error handler for the whole app: refusals pass through, everything else is a logged 500 with no internals. */
export function onError(log: Logger): ErrorHandler {
  return (err, c) => {
    const apiError = err instanceof ApiError ? err : err instanceof HTTPException ? fromHttpException(err) : null;
    if (apiError) {
      return c.json(errorBody(c, apiError.code, apiError.message, apiError.details), apiError.status);
    }
    log.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return c.json(errorBody(c, "internal", "Internal error; the request id identifies it in the server logs."), 500);
  };
}

export const notFound: NotFoundHandler = (c) =>
  c.json(errorBody(c, "not_found", `No route ${c.req.method} ${c.req.path}. See GET /openapi.json for the API.`), 404);

export function methodNotAllowedBody(c: Context, methods: string[]) {
  return c.json(
    errorBody(c, "method_not_allowed", `${c.req.method} is not allowed here; use ${methods.join(", ")}.`, {
      allow: methods,
    }),
    405,
    { Allow: methods.join(", ") },
  );
}
