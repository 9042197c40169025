import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import type { Capability } from "./capability.ts";
import { ApiError, methodNotAllowedBody, notFound, onError } from "./http/errors.ts";
import { hostGuard, requestLog } from "./http/middleware.ts";
import { authenticate } from "./identity/auth.ts";
import { identityCapability } from "./identity/capability.ts";
import { locksCapability } from "./locks/capability.ts";
import { mcpRoutes } from "./mcp/route.ts";
import { memoryCapability } from "./memory/capability.ts";
import { openApiDocument } from "./ops/openapi.ts";
import { mountOperation } from "./ops/operation.ts";
import { statusCapability } from "./status/capability.ts";
import type { AppDeps, AppEnv } from "./types.ts";
import { verificationCapability } from "./verification/capability.ts";
import { workCapability } from "./work/capability.ts";

/** Every capability the app serves, in mount order, configured from the host's environment. */
export function defaultCapabilities(env: AppDeps["env"]): Capability[] {
  return [
    statusCapability,
    identityCapability,
    locksCapability,
    workCapability,
    memoryCapability,
    verificationCapability(env),
  ];
}

/** The body-size cap of each request: the app's default, or what a capability declares for one of its routes. */
function bodyLimits(defaultMax: number, capabilities: Capability[]): MiddlewareHandler<AppEnv> {
  const perPath = new Map<string, number>();
  for (const cap of capabilities) {
    for (const [path, max] of Object.entries(cap.bodyLimits ?? {})) {
      perPath.set(path, max).set(`${FUNCTION_PREFIX}${path}`, max);
    }
  }
  const limiters = new Map<number, MiddlewareHandler>();
  const limiter = (max: number) => {
    let l = limiters.get(max);
    if (!l) {
      l = bodyLimit({
        maxSize: max,
        onError: () => {
          throw new ApiError(
            413,
            "body_too_large",
            `Request body is over ${max} bytes; send less per call (split batches).`,
          );
        },
      });
      limiters.set(max, l);
    }
    return l;
  };
  return (c, next) => limiter(perPath.get(c.req.path) ?? defaultMax)(c, next);
}

/** The path prefix under which Supabase serves the deployed function. */
export const FUNCTION_PREFIX = "/coordinator";

/**
 * Builds the whole app from its dependencies. Runtime-neutral: the Node host, the Deno edge entry and the
 * tests all call this and serve `app.fetch`. Routes answer at the root (local) and under /coordinator
 * (as deployed on Supabase).
 */
export function createApp(deps: AppDeps, capabilities: Capability[] = defaultCapabilities(deps.env)): Hono<AppEnv> {
  const auth = authenticate(deps);

  const api = new Hono<AppEnv>();
  api.get("/openapi.json", (c) => c.json(openApiDocument(capabilities)));
  for (const cap of capabilities) {
    if (cap.routes) api.route("/", cap.routes(deps, auth));
    for (const op of cap.operations) mountOperation(api, deps, auth, op);
  }
  api.route("/", mcpRoutes(deps, auth, capabilities));

  const app = new Hono<AppEnv>();
  app.use(requestId({ headerName: "X-Request-Id" }));
  app.use(requestLog(deps.log));
  if (deps.config.allowedHosts) app.use(hostGuard(deps.config.allowedHosts));
  app.use(bodyLimits(deps.config.maxBodyBytes, capabilities));
  app.use(methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedBody }));
  app.route(FUNCTION_PREFIX, api);
  app.route("/", api);
  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}
