/** Lock look-ups shared by the hook and the git guard. */
import type { AgentCoordinationClient, CheckLocksOutput } from "../../client/src/index.ts";

export type Lock = CheckLocksOutput["locks"][number];

/** Keys per check_locks call (the server's cap). */
const BATCH = 50;

/** Locks that cover `path`: on the path itself or on a directory (`dir/`) above it. */
export function covering(locks: Lock[], path: string): Lock[] {
  return locks.filter((l) => l.key === path || (l.key.endsWith("/") && path.startsWith(l.key)));
}

/**
 * What to ask GET /locks for a path. The REST query splits values on commas (`file_paths=a,b`), so a path with a comma
 * is asked as its nearest comma-free folder (whose answer includes the locks inside it), or not at all (every lock of
 * the repo) when there is none; `covering` then picks the path's own locks.
 */
function queryKey(path: string): string | null {
  if (!path.includes(",")) return path;
  const parts = path.split("/").slice(0, -1);
  while (parts.length > 0 && parts.join("/").includes(",")) parts.pop();
  return parts.length > 0 ? `${parts.join("/")}/` : null;
}

/** Every live lock that may cover one of `paths` (a superset; filter with `covering`). */
export async function locksFor(client: AgentCoordinationClient, repo: string, paths: string[]): Promise<Lock[]> {
  const keys = [...new Set(paths.map(queryKey))];
  const all: Lock[] = [];
  if (keys.includes(null)) {
    const { locks, truncated } = await client.checkLocks({ repo, limit: 500 });
    if (truncated)
      throw new Error(`more than 500 locks in repo ${repo}: cannot check a path with a comma at its top level`);
    return locks;
  }
  const named = keys as string[];
  for (let i = 0; i < named.length; i += BATCH) {
    const { locks } = await client.checkLocks({ repo, file_paths: named.slice(i, i + BATCH), limit: 500 });
    all.push(...locks);
  }
  return all;
}
