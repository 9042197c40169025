create table coord.sessions (
  agent_id          text not null references coord.agents (agent_id) on delete cascade,
  session_id        text not null check (session_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  agent_type        text not null default 'unknown',
  started_at        timestamptz not null default now(),
  last_seen_at      timestamptz not null default now(),
  last_heartbeat_at timestamptz,
  ended_at          timestamptz,
  end_cause         text check (end_cause in ('ended', 'expired')),
  live_until        timestamptz,
  timeout_seconds   int check (timeout_seconds between 1 and 86400),
  primary key (agent_id, session_id)
);
comment on table coord.sessions is
  'One row per agent process (bridge or client). Later capabilities attach triggers to last_heartbeat_at (renew '
  'leases) and ended_at (release what the session held), so one heartbeat call renews everything. A heartbeat gives '
  'the session liveness: timeout_seconds (the server''s COORDINATOR_SESSION_TIMEOUT_SECONDS) and live_until (the last '
  'heartbeat or call plus the timeout). Past live_until the session is dead: every lock and claim it holds expires no '
  'later than live_until, so they are free at once; coord.expire_sessions ends it (end_cause expired). A session that '
  'never heartbeated has no liveness (null): its locks and claims keep their own TTL and lease.';
create index sessions_live_idx on coord.sessions (last_heartbeat_at) where ended_at is null;
create index sessions_expiry_idx on coord.sessions (live_until) where ended_at is null and live_until is not null;

alter table coord.sessions enable row level security;
