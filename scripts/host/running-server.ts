/**
 * How scripts find the `npm start` that holds a PGlite data directory: the server writes its URL and pid next to the
 * lock (`server.json`) once it listens and removes it when it stops; a script that finds the directory locked by that
 * pid talks to that URL instead of opening the database (PGlite is one process's database).
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { dataDirOwner } from "./open-db.ts";

const FILE = "server.json";

/** Where a running server is: its base URL and its process. */
export interface RunningServer {
  url: string;
  pid: number;
}

/** The URL a client on this machine uses for a server listening on `hostname:port`. */
export function localUrl(hostname: string, port: number): string {
  if (hostname === "0.0.0.0" || hostname === "") return `http://127.0.0.1:${port}`;
  if (hostname === "::") return `http://[::1]:${port}`;
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** Records that this process serves the data directory at `url`; resolves to the function that removes the record. */
export async function announceServer(dataDir: string, url: string): Promise<() => Promise<void>> {
  const file = join(dataDir, FILE);
  await writeFile(file, `${JSON.stringify({ url, pid: process.pid } satisfies RunningServer)}\n`, { mode: 0o600 });
  return () => rm(file, { force: true });
}

/**
 * The server holding the data directory, when the process that holds its lock is the one that announced itself.
 * Null when no live process holds it; throws when one does that is not a server that said where it listens.
 */
export async function runningServer(dataDir: string): Promise<RunningServer | null> {
  const owner = await dataDirOwner(dataDir);
  if (owner === null) return null;
  const announced = await readFile(join(dataDir, FILE), "utf8")
    .then((text) => JSON.parse(text) as RunningServer)
    .catch(() => null);
  if (!announced || announced.pid !== owner || typeof announced.url !== "string") {
    throw new Error(
      `the data directory ${dataDir} is in use by process ${owner}, which is not a server this script can talk to: ` +
        "wait for it to finish, or stop it",
    );
  }
  return announced;
}
