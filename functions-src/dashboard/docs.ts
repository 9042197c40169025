/**
 * The OpenAPI description of the dashboard's routes: a page for people and the small API behind it, authenticated by
 * the dashboard's cookie session (and a CSRF token on writes) rather than an API key.
 */
import { errorResponse, type PathItem } from "../ops/openapi.ts";

const page = (operationId: string, summary: string, type: string): PathItem => ({
  get: {
    operationId,
    summary,
    tags: ["dashboard"],
    security: [],
    responses: { "200": { description: summary, content: { [type]: { schema: { type: "string" } } } } },
  },
});

const api = (
  method: string,
  operationId: string,
  summary: string,
  description: string,
  body?: Record<string, unknown>,
): PathItem => ({
  [method]: {
    operationId,
    summary,
    description,
    tags: ["dashboard"],
    security: [],
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: body } } } } : {}),
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } },
      "400": errorResponse(400),
      "401": errorResponse(401),
      "403": errorResponse(403),
      "500": errorResponse(500),
      "503": errorResponse(503),
    },
  },
});

const COOKIE = "Needs the dashboard session cookie";
const WRITE = `${COOKIE} and the CSRF token (X-CSRF-Token) from a same-site page`;

export const DASHBOARD_DOCS: Record<string, PathItem> = {
  "/dashboard": page("dashboard", "The dashboard page", "text/html"),
  "/dashboard/": {
    get: {
      operationId: "dashboard_slash",
      summary: "Redirect to /dashboard",
      tags: ["dashboard"],
      security: [],
      responses: { "308": { description: "Moved to /dashboard" } },
    },
  },
  "/dashboard/app.js": page("dashboard_script", "The dashboard's script", "text/javascript"),
  "/dashboard/app.css": page("dashboard_style", "The dashboard's style sheet", "text/css"),
  "/dashboard/favicon.svg": page("dashboard_icon", "The dashboard's icon", "image/svg+xml"),
  "/dashboard/api/session": api("get", "dashboard_session", "The signed-in identity", "Who the cookie session is."),
  "/dashboard/api/login": api(
    "post",
    "dashboard_login",
    "Sign in",
    "Takes an API key once ({key}) and answers a session cookie (HttpOnly, SameSite=Strict) and a CSRF token.",
    {
      type: "object",
      required: ["key"],
      properties: { key: { type: "string" }, agent_id: { type: "string" } },
    },
  ),
  "/dashboard/api/logout": api("post", "dashboard_logout", "Sign out", WRITE, { type: "object" }),
  "/dashboard/api/overview": api("get", "dashboard_overview", "Everything the page shows", COOKIE),
  "/dashboard/api/events": api("get", "dashboard_events", "The event stream for the page (SSE)", COOKIE),
  "/dashboard/api/changesets/{id}/review": api(
    "post",
    "dashboard_review",
    "Approve or reject a tier-4 change",
    `${WRITE}; admin sessions only`,
    {
      type: "object",
      required: ["decision", "note"],
      properties: { decision: { type: "string", enum: ["approve", "reject"] }, note: { type: "string" } },
    },
  ),
};
