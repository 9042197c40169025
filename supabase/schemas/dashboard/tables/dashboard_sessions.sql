create table coord.dashboard_sessions (
  token_hash  text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  key_hash    text not null check (key_hash ~ '^[0-9a-f]{64}$'),
  agent_id    text not null check (agent_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null
);
comment on table coord.dashboard_sessions is
  'Sessions of people signed in to /dashboard: the SHA-256 digest of the cookie''s random token, and the digest of '
  'the API key it was opened with, which is checked again on every request (a revoked or removed key ends the '
  'session). Neither the token nor the key is stored.';
create index dashboard_sessions_expires_idx on coord.dashboard_sessions (expires_at);

alter table coord.dashboard_sessions enable row level security;
