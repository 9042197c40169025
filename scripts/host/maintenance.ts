import type { App } from "../../functions-src/app.ts";

/**
 * Runs every capability's periodic upkeep once. Each task is independent: one failing is logged and the others
 * still run, and what they changed is announced to the event feeds. Answers what each did (or its error), for logs
 * and tests.
 */
export async function runMaintenance({ deps, capabilities }: App): Promise<Record<string, unknown>> {
  const report: Record<string, unknown> = {};
  for (const cap of capabilities) {
    if (!cap.maintenance) continue;
    try {
      report[cap.name] = await cap.maintenance(deps);
    } catch (err) {
      report[cap.name] = { error: (err as Error).message };
      deps.log.warn("maintenance failed", { capability: cap.name, error: (err as Error).message });
    }
  }
  // Sweeps record events (expired locks, released claims): waiting requests and streams hear of them now.
  deps.announce();
  return report;
}
