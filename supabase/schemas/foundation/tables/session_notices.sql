create table coord.session_notices (
  id         bigint generated always as identity primary key,
  agent_id   text not null,
  session_id text not null,
  kind       text not null check (kind in ('lock_lost', 'claim_lost')),
  subject    text not null,
  repo       text,
  token      bigint,
  cause      text not null,
  by_agent   text,
  lost_at    timestamptz not null,
  detail     jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
comment on table coord.session_notices is
  'What was taken from a session while its process may still run (a lock or claim lost to expiry, a dead-session '
  'declaration, a force-release, a cancellation), waiting to be told: the session''s next MCP tool answer starts with '
  'them (coord.take_session_notices deletes them as it hands them out). Written in the transaction of the loss; '
  'deleted when the session ends cleanly, and after a day by coord.expire_sessions.';
create index session_notices_session_idx on coord.session_notices (agent_id, session_id, id);
create index session_notices_created_idx on coord.session_notices (created_at);

alter table coord.session_notices enable row level security;
