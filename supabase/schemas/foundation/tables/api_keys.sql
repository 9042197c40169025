-- API keys (hashed). Keys from COORDINATION_API_KEYS never reach the database.
create table coord.api_keys (
  id           uuid primary key default gen_random_uuid(),
  key_hash     text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  key_prefix   text not null,
  agent_id     text not null check (agent_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  scope        text not null default 'agent' check (scope in ('agent', 'admin')),
  trust_level  int  not null default 2 check (trust_level between 0 and 4),
  label        text,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  expires_at   timestamptz
);
comment on table coord.api_keys is
  'API keys stored as SHA-256 hex digests. scope agent: bound to agent_id. scope admin: may act as any agent and '
  'perform operator actions (force-release, approvals). key_prefix identifies a key in listings without revealing it. '
  'A key past expires_at (when set) is refused like a revoked one. The agent_id of every active key is reserved: '
  'no other agent key may act as it (coord.admit_agent).';
-- Reservation checks look up active keys by agent id.
create index api_keys_agent_idx on coord.api_keys (agent_id) where revoked_at is null;

alter table coord.api_keys enable row level security;
