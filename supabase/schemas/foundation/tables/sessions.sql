create table coord.sessions (
  agent_id          text not null references coord.agents (agent_id) on delete cascade,
  session_id        text not null check (session_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  agent_type        text not null default 'unknown',
  started_at        timestamptz not null default now(),
  last_seen_at      timestamptz not null default now(),
  last_heartbeat_at timestamptz,
  ended_at          timestamptz,
  primary key (agent_id, session_id)
);
comment on table coord.sessions is
  'One row per agent process (bridge or client). Later capabilities attach triggers to last_heartbeat_at (renew '
  'leases) and ended_at (release what the session held), so one heartbeat call renews everything.';
create index sessions_live_idx on coord.sessions (last_heartbeat_at) where ended_at is null;

alter table coord.sessions enable row level security;
