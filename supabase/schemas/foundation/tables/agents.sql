create table coord.agents (
  agent_id        text primary key check (agent_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  agent_type      text not null default 'unknown' check (length(agent_type) between 1 and 64),
  first_seen_at   timestamptz not null default now(),
  last_seen_at    timestamptz not null default now(),
  last_session_id text
);
comment on table coord.agents is 'Every agent that has made an authenticated call: who it is and when it was last seen (presence).';

alter table coord.agents enable row level security;

-- Presence is public to agents reading with the anon key (the hybrid read pattern): every row, and the columns
-- grants.sql gives anon. Nothing else is.
create policy agents_presence_read on coord.agents for select to anon, authenticated using (true);
