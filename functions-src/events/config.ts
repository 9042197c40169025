import { type Env, intVar } from "../util/env.ts";

/** How event streams behave on this host. */
export interface EventsConfig {
  /** Seconds between the comment lines that keep an idle stream (and the proxies on its way) open. */
  heartbeatSeconds: number;
  /** COORDINATOR_EVENTS_BACKLOG: most events a reconnecting client is sent; beyond it, a `reset` event. */
  backlog: number;
  /** COORDINATOR_STREAM_SECONDS: how long one stream stays open before it ends cleanly; 0 = no limit. */
  streamSeconds: number;
  /**
   * COORDINATOR_WALL_CLOCK_SECONDS: the host process's wall-clock limit, counted from its start (Supabase Edge
   * Functions: 150 s on the free plan, 400 s on paid plans); streams end once 90 % of it has passed. 0 = none.
   */
  wallClockSeconds: number;
  /** Milliseconds between looks at the events table when no NOTIFY wakes the feed (none arrive through a pooler). */
  pollMs: number;
  /** Most streams one process serves at once; more are refused with 503 and Retry-After. */
  maxStreams: number;
}

/** What differs between hosts: a long-lived Node process streams without limit, an edge worker lives 150 s. */
export interface EventsDefaults {
  streamSeconds: number;
  wallClockSeconds: number;
}

export function loadEventsConfig(env: Env, defaults: EventsDefaults): EventsConfig {
  return {
    heartbeatSeconds: 15,
    backlog: intVar(env, "COORDINATOR_EVENTS_BACKLOG", 1000, 1, 100_000),
    streamSeconds: intVar(env, "COORDINATOR_STREAM_SECONDS", defaults.streamSeconds, 0, 86_400),
    wallClockSeconds: intVar(env, "COORDINATOR_WALL_CLOCK_SECONDS", defaults.wallClockSeconds, 0, 86_400),
    pollMs: 1000,
    maxStreams: 2000,
  };
}
