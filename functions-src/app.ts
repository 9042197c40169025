import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { dashboardCapability } from "./dashboard/capability.ts";
import { groupCommits } from "./db/group.ts";
import { type Announcer, createAnnouncer } from "./events/announce.ts";
import { eventsCapability } from "./events/capability.ts";
import { EventFeed } from "./events/feed.ts";
import { ApiError, methodNotAllowedBody, notFound, onError } from "./http/errors.ts";
import { hostGuard, requestLog } from "./http/middleware.ts";
import { RateLimiter } from "./ops/quotas.ts";
import { authenticate } from "./identity/auth.ts";
import { IDENTITY_HEADERS } from "./identity/agent-id.ts";
import { identityCapability } from "./identity/capability.ts";
import { locksCapability } from "./locks/capability.ts";
import { MCP_DOCS, mcpRoutes } from "./mcp/route.ts";
import { memoryCapability } from "./memory/capability.ts";
import type { Capability } from "./ops/capability.ts";
import { openApiDocument, type PathItem } from "./ops/openapi.ts";
import { mountOperation } from "./ops/operation.ts";
import { statusCapability } from "./status/capability.ts";
import type { AppDeps, AppEnv, HostDeps } from "./types.ts";
import { verificationCapability } from "./verification/capability.ts";
import { VERSION } from "./version.ts";
import { workCapability } from "./work/capability.ts";

/** Every capability the app serves, in mount order. */
export const CAPABILITIES: readonly Capability[] = [
  statusCapability,
  identityCapability,
  locksCapability,
  workCapability,
  memoryCapability,
  verificationCapability,
  eventsCapability,
  dashboardCapability,
];

/** The body-size cap of each request: the app's default, or what a capability declares for one of its routes. */
function bodyLimits(defaultMax: number, capabilities: readonly Capability[]): MiddlewareHandler<AppEnv> {
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

const OPENAPI_DOC: PathItem = {
  get: {
    operationId: "openapi",
    summary: "This document",
    description: "The OpenAPI 3.1 description of every route; no key needed.",
    tags: ["status"],
    security: [],
    responses: {
      "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
    },
  },
};

/**
 * After every request that may have written, announces the commit to the event feeds (events/announce.ts): any
 * method but GET/HEAD/OPTIONS that succeeded, or was refused with a conflict (a refused acquire may still have swept
 * expired locks). Refusals before any write (401, 403, 404, 413, 429, bad input) announce nothing, so requests
 * without a key cannot make the app NOTIFY.
 */
function announceWrites(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    await next();
    const status = c.res.status;
    if (status < 400 || status === 409) deps.announce();
  };
}

/** The OpenAPI document of an app serving `capabilities` (scripts/api-reference.ts renders it as docs/API_REFERENCE.md). */
export function apiDocument(capabilities: readonly Capability[] = CAPABILITIES) {
  return openApiDocument(capabilities, {
    version: VERSION,
    headers: IDENTITY_HEADERS,
    paths: { "/openapi.json": OPENAPI_DOC, ...MCP_DOCS },
  });
}

/** The path prefix under which Supabase serves the deployed function. */
export const FUNCTION_PREFIX = "/coordinator";

/**
 * The app, with the dependencies and capabilities it was built from: hosts run upkeep over them, and tests reach
 * capability state through `deps.state(capability)`.
 */
export type App = Hono<AppEnv> & {
  deps: AppDeps;
  capabilities: readonly Capability[];
  /** Stops every capability's background work and ends open streams (hosts call it before closing the database). */
  close(): Promise<void>;
};

/**
 * The dependencies every capability runs with: the host's, plus each capability's state, built once by its `setup`
 * (which also starts what it runs in the background).
 */
function appDeps(host: HostDeps, capabilities: readonly Capability[], announcer: Announcer, feed: EventFeed): AppDeps {
  const states = new Map<Capability<unknown>, unknown>();
  const deps: AppDeps = {
    ...host,
    feed,
    announce: announcer.announce,
    fetch: host.fetch ?? ((input, init) => fetch(input, init)),
    constraints: Object.assign({}, ...capabilities.map((c) => c.constraints ?? {})),
    rates: {
      requests: new RateLimiter(host.config.quotas.requestsPerMinute),
      memoryWrites: new RateLimiter(host.config.quotas.memoryWritesPerMinute),
    },
    state<S>(capability: Capability<S>): S {
      if (!states.has(capability as Capability<unknown>)) {
        throw new Error(`capability ${capability.name} is not mounted in this app`);
      }
      return states.get(capability as Capability<unknown>) as S;
    },
  };
  for (const cap of capabilities) states.set(cap as Capability<unknown>, cap.setup?.(deps));
  return deps;
}

/**
 * Builds the whole app from its dependencies. Runtime-neutral: the Node host, the Deno edge entry and the
 * tests all call this and serve `app.fetch`. Routes answer at the root (local) and under /coordinator
 * (as deployed on Supabase).
 */
export function createApp(host: HostDeps, capabilities: readonly Capability[] = CAPABILITIES): App {
  const feed = new EventFeed(host.db, host.log, host.config.events.pollMs);
  const announcer = createAnnouncer(host.db, host.log, feed.poke);
  const db = host.config.groupCommit ? groupCommits(host.db, host.log) : host.db;
  const deps = appDeps({ ...host, db }, capabilities, announcer, feed);
  const auth = authenticate(deps);

  const api = new Hono<AppEnv>();
  // Built on first request, once per app: converting every schema costs a few milliseconds an edge start need not pay.
  let document: ReturnType<typeof openApiDocument> | undefined;
  api.get("/openapi.json", (c) => {
    document ??= apiDocument(capabilities);
    return c.json(document);
  });
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
  app.use(announceWrites(deps));
  app.route(FUNCTION_PREFIX, api);
  app.route("/", api);
  app.notFound(notFound);
  app.onError(onError(deps.log, deps.constraints));
  const close = async () => {
    for (const cap of capabilities) await cap.stop?.(deps.state(cap));
    announcer.close();
    feed.close();
  };
  return Object.assign(app, { deps, capabilities, close });
}
