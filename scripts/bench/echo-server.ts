/**
 * The bare-echo reference of `npm run bench`: a Hono app on @hono/node-server that parses a JSON body and sends it
 * back — what any JSON API on this stack costs before it does any work. Run as a child process like the real host.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono().post("/echo", async (c) => c.json(await c.req.json()));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" }, () => {
  process.stderr.write("echo ready\n");
});
