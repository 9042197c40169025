import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";
import type { Logger } from "./log.ts";

/** Logs one line per request: method, path, status, duration, agent. Never headers or bodies. */
export function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    log.info("request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      agent_id: (c.get("identity") as { agentId?: string } | undefined)?.agentId,
    });
  };
}

function hostnameOf(hostHeader: string): string {
  // "[::1]:8787" → "[::1]", "localhost:8787" → "localhost"
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  return hostHeader.split(":")[0]!;
}

/**
 * DNS-rebinding protection for a server on loopback: `Host` and, when present, `Origin` must name an allowed
 * host (any port). A web page on another origin that resolves to 127.0.0.1 cannot reach the API through it.
 */
export function hostGuard(allowed: string[]): MiddlewareHandler {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return async (c, next) => {
    // Node's server builds the URL from the Host header; a Request made in-process may carry no Host header.
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!host || !names.has(hostnameOf(host.toLowerCase()))) {
      throw new ApiError(
        403,
        "host_not_allowed",
        "Host header not allowed; connect through localhost or set COORDINATOR_ALLOWED_HOSTS.",
      );
    }
    const origin = c.req.header("origin");
    if (origin) {
      let originHost: string;
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        throw new ApiError(403, "origin_not_allowed", "Origin header is not a valid origin.");
      }
      if (!names.has(hostnameOf(originHost))) {
        throw new ApiError(
          403,
          "origin_not_allowed",
          "Origin not allowed; browsers on other sites may not call this server.",
        );
      }
    }
    await next();
  };
}

/** 415 unless the request says it sends JSON: a form post or text body is refused, never read as `{}`. */
export function requireJson(): MiddlewareHandler {
  return async (c, next) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") {
      throw new ApiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    await next();
  };
}
