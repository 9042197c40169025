import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Constraints, isUnavailable, RETRY_AFTER_SECONDS, violatedConstraint } from "../db/errors.ts";
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

/** The 503 every transport answers while the database cannot: retry, and retrying is safe. */
export function unavailableError(): ApiError {
  return new ApiError(
    503,
    "unavailable",
    `The database is unavailable (restarting, unreachable or overloaded); retry in ${RETRY_AFTER_SECONDS} s. ` +
      "If this call changes something it may or may not have taken effect: send it again unchanged, which is safe " +
      "(docs/OPERATIONS.md).",
    { retry_after_seconds: RETRY_AFTER_SECONDS },
  );
}

/**
 * The refusal an error means for the caller, or null for a bug: ApiErrors as they are, Hono's own HTTP errors, a
 * database that cannot answer now (503), and a known constraint (400 naming the field).
 */
export function asApiError(err: unknown, constraints: Constraints = {}): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  if (isUnavailable(err)) return unavailableError();
  const constraint = violatedConstraint(err);
  const meaning = constraint && Object.hasOwn(constraints, constraint) ? constraints[constraint] : undefined;
  if (meaning) {
    return new ApiError(400, "invalid_input", `Invalid input — ${meaning.field}: ${meaning.message}`, {
      fields: [{ field: meaning.field, message: meaning.message }],
    });
  }
  return null;
}

/** The message of a 500: the request id to report, nothing internal. */
export function internalMessage(requestId: string | undefined): string {
  return `Internal error (request id ${requestId ?? "unknown"}); report it with this id, which identifies it in the server logs.`;
}

/** What the logs say about an unexpected error: its class, message and database code, never request data. */
export function describeError(err: unknown): Record<string, unknown> {
  const code = (err as { code?: unknown } | null)?.code;
  return {
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    ...(typeof code === "string" ? { code } : {}),
  };
}

/**
 * One error handler for the whole app: refusals pass through (with Retry-After when they carry one), everything
 * else is a logged 500 with the request id and no internals.
 */
export function onError(log: Logger, constraints: Constraints = {}): ErrorHandler {
  return (err, c) => {
    const apiError = asApiError(err, constraints);
    if (apiError) {
      const retry = apiError.details.retry_after_seconds;
      if (typeof retry === "number") c.header("Retry-After", String(retry));
      if (apiError.status === 401) c.header("WWW-Authenticate", challenge(apiError.code));
      if (apiError.code === "unavailable") {
        log.warn("database unavailable", { request_id: c.get("requestId"), path: c.req.path, ...describeError(err) });
      }
      return c.json(errorBody(c, apiError.code, apiError.message, apiError.details), apiError.status);
    }
    const requestId = c.get("requestId") as string | undefined;
    log.error("unhandled error", { request_id: requestId, path: c.req.path, ...describeError(err) });
    return c.json(errorBody(c, "internal", internalMessage(requestId)), 500);
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
