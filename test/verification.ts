/**
 * Test fixtures shared by the verification suites: request signing, GitHub example payloads, and a recording HTTP
 * server that stands in for api.github.com and api.e2b.dev (their wire contracts are in *.contract.md beside this).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { sign } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import type { Env } from "../functions-src/config.ts";
import type { Db } from "../functions-src/db/port.ts";
import { identityCapability } from "../functions-src/identity/capability.ts";
import { statusCapability } from "../functions-src/status/capability.ts";
import { verificationCapability } from "../functions-src/verification/capability.ts";
import { callbackKey } from "../functions-src/verification/signatures.ts";
import { workCapability } from "../functions-src/work/capability.ts";
import { type TestAppOptions, testApp } from "./helpers.ts";

export const WEBHOOK_SECRET = "test-webhook-secret-0123456789";
export const CALLBACK_SECRET = `whsec_${Buffer.from("callback-master-secret-0123456789").toString("base64")}`;

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as Array<{
  name: string;
  examples: Array<Record<string, any>>;
}>;

/** A real GitHub payload from @octokit/webhooks-examples (deep-copied, so tests may edit it). */
export function example(event: string, pick: (e: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === event)?.examples.find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return structuredClone(found);
}

/** Headers of a GitHub delivery of `body`, signed with `secret`. */
export async function githubHeaders(
  event: string,
  delivery: string,
  body: string,
  secret = WEBHOOK_SECRET,
): Promise<Record<string, string>> {
  return {
    "Content-Type": "application/json",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": delivery,
    "X-Hub-Signature-256": await sign(secret, body),
  };
}

/** Standard Webhooks headers for a callback about `resultId`, signed with the result's derived key. */
export async function callbackHeaders(
  resultId: string,
  msgId: string,
  body: string,
  at = new Date(),
): Promise<Record<string, string>> {
  const wh = new Webhook(await callbackKey(CALLBACK_SECRET, resultId), { format: "raw" });
  return {
    "Content-Type": "application/json",
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": wh.sign(msgId, at, body),
  };
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
}

/** A local HTTP server that records every request and answers from `handle` (404 when it returns nothing). */
export async function recordingServer(handle: (r: Recorded) => { status: number; body?: unknown } | undefined) {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const r: Recorded = {
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(r);
      let answer: { status: number; body?: unknown };
      try {
        answer = handle(r) ?? { status: 404, body: { message: "Not Found" } };
      } catch (err) {
        // A failed assertion inside the stand-in: answer it, so the client sees an error instead of hanging.
        answer = { status: 500, body: { message: `stand-in assertion failed: ${(err as Error).message}` } };
      }
      res.writeHead(answer.status, answer.body === undefined ? {} : { "content-type": "application/json" });
      res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A 40-hex commit sha made from a label, so tests read well and never collide. */
export function sha(label: string): string {
  return createHash("sha1").update(label).digest("hex");
}

/**
 * An app with the gateway configured from `env` (GITHUB_WEBHOOK_SECRET, GITHUB_TOKEN, …), the capabilities the
 * gateway's tests need, and `settled()`: resolves when the gateway's work past a response has finished.
 */
export function gatewayApp(db: Db, env: Env = {}, options: Omit<TestAppOptions, "env"> = {}) {
  const { app } = testApp(db, {
    capabilities: [statusCapability, identityCapability, workCapability, verificationCapability],
    ...options,
    env,
  });
  const service = app.deps.state(verificationCapability);
  return { app, service, settled: () => service.settled() };
}
