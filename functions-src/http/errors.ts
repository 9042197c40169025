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

/** The realm every 401 names in its `WWW-Authenticate` challenge. */
export const REALM = "agent-coordinator";

/**
 * The challenge of a 401 (RFC 9110 §11.6.1 requires one; RFC 6750 §3 its form). A request without a key gets the bare
 * challenge, a wrong key `error="invalid_token"`. No `resource_metadata`: the server does not do OAuth, so it names
 * no protected-resource metadata (docs/ARCHITECTURE.md, "Keys and MCP clients").
 */
function challenge(code: string): string {
  return code === "invalid_key" ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
}

/** One error handler for the whole app: refusals pass through, everything else is a logged 500 with no internals. */
export function onError(log: Logger): ErrorHandler {
  return (err, c) => {
    const apiError = err instanceof ApiError ? err : err instanceof HTTPException ? fromHttpException(err) : null;
    if (apiError) {
      const headers = apiError.status === 401 ? { "WWW-Authenticate": challenge(apiError.code) } : undefined;
      return c.json(errorBody(c, apiError.code, apiError.message, apiError.details), apiError.status, headers);
    }
    log.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return c.json(errorBody(c, "internal", "Internal error; the request id identifies it in the server logs."), 500);
  };
}

/**
 * Where OAuth clients look for an authorization server: protected-resource and authorization-server metadata (RFC 9728,
 * RFC 8414, OpenID discovery) and the default endpoints the MCP SDK falls back to (`/register`, `/authorize`,
 * `/token`). The server does not do OAuth; these answer 404 like any unknown path, with a message that tells the person
 * reading the client's log to configure the key instead (mcp-remote prints the body of the failed `/register`).
 */
const OAUTH_PATH =
  /(^|\/)\.well-known\/(oauth-protected-resource|oauth-authorization-server|openid-configuration)(\/|$)|^(\/coordinator)?\/(register|authorize|token)$/;

export const notFound: NotFoundHandler = (c) => {
  if (OAUTH_PATH.test(c.req.path)) {
    return c.json(
      errorBody(
        c,
        "oauth_not_supported",
        "This server does not use OAuth; its 401 means the API key is missing or wrong. Send the key as " +
          'Authorization: Bearer <key> (with mcp-remote: --header "Authorization: Bearer <key>"). ' +
          "`npm run keys -- create --agent ID` makes one.",
      ),
      404,
    );
  }
  return c.json(
    errorBody(c, "not_found", `No route ${c.req.method} ${c.req.path}. See GET /openapi.json for the API.`),
    404,
  );
};

export function methodNotAllowedBody(c: Context, methods: string[]) {
  return c.json(
    errorBody(c, "method_not_allowed", `${c.req.method} is not allowed here; use ${methods.join(", ")}.`, {
      allow: methods,
    }),
    405,
    { Allow: methods.join(", ") },
  );
}
