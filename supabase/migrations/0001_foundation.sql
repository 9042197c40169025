-- 0001 foundation: the private schema, agents and their sessions, API keys, and the append-only events log.
--
-- Conventions every later migration follows:
--   * tables and helpers live in the private schema `coord`; nothing is created in `public`;
--   * callable functions are `security definer`, `set search_path = ''`, fully qualified, and return jsonb
--     so that one call is one round trip and both drivers (postgres.js, PGlite) see the same shape;
--   * time is always the database's `now()`;
--   * RLS is enabled on every table; `anon` reads only what any agent may see.

create schema if not exists coord;
comment on schema coord is 'Agent Coordinator: private tables and the SQL functions the API calls. Not exposed to PostgREST.';

revoke all on schema coord from public;
grant usage on schema coord to service_role, anon, authenticated;

-- Functions are executable by PUBLIC by default, and a per-schema default privilege cannot take that away (it can
-- only add to the global default). So every migration ends by revoking EXECUTE on the schema's functions from
-- PUBLIC and the API roles; test/rls.test.ts calls them as `anon` to prove it.
alter default privileges in schema coord grant execute on functions to service_role;
alter default privileges in schema coord grant all on tables to service_role;
alter default privileges in schema coord grant all on sequences to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- Agents and sessions
-- ---------------------------------------------------------------------------------------------------------------

create table coord.agents (
  agent_id        text primary key check (agent_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
  agent_type      text not null default 'unknown' check (length(agent_type) between 1 and 64),
  first_seen_at   timestamptz not null default now(),
  last_seen_at    timestamptz not null default now(),
  last_session_id text
);
comment on table coord.agents is 'Every agent that has made an authenticated call: who it is and when it was last seen (presence).';

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

-- ---------------------------------------------------------------------------------------------------------------
-- API keys (hashed). Keys from COORDINATION_API_KEYS never reach the database.
-- ---------------------------------------------------------------------------------------------------------------

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
  revoked_at   timestamptz
);
comment on table coord.api_keys is
  'API keys stored as SHA-256 hex digests. scope agent: bound to agent_id. scope admin: may act as any agent and '
  'perform operator actions (force-release, approvals). key_prefix identifies a key in listings without revealing it.';

-- ---------------------------------------------------------------------------------------------------------------
-- Events: who did what, when. Append-only.
-- ---------------------------------------------------------------------------------------------------------------

create table coord.events (
  id          bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  kind        text not null check (kind ~ '^[a-z_]+\.[a-z_.]+$'),
  agent_id    text,
  session_id  text,
  subject     text,
  data        jsonb not null default '{}'::jsonb
);
comment on table coord.events is
  'Append-only log of every state change (kind like lock.acquired, task.completed). Never holds secrets: callers '
  'write identifiers and outcomes, not request bodies.';
create index events_kind_idx on coord.events (kind, id);
create index events_subject_idx on coord.events (subject, id) where subject is not null;

create function coord.events_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'coord.events is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end;
$$;
comment on function coord.events_append_only() is 'Trigger: refuses UPDATE and DELETE on coord.events.';

create trigger events_append_only before update or delete on coord.events
  for each row execute function coord.events_append_only();

create function coord.emit(p_kind text, p_agent_id text, p_session_id text, p_subject text, p_data jsonb default '{}'::jsonb)
returns void
language plpgsql
set search_path = ''
as $$
begin
  insert into coord.events (kind, agent_id, session_id, subject, data)
  values (p_kind, p_agent_id, p_session_id, p_subject, coalesce(p_data, '{}'::jsonb));
  -- One channel per capability (coord_lock, coord_task, ...). The payload stays small: NOTIFY caps it at 8000 bytes.
  perform pg_notify(
    'coord_' || split_part(p_kind, '.', 1),
    json_build_object('kind', p_kind, 'agent_id', p_agent_id, 'subject', left(p_subject, 1024))::text
  );
end;
$$;
comment on function coord.emit(text, text, text, text, jsonb) is
  'Records one event and announces it with pg_notify on channel coord_<capability>. Called inside the '
  'transaction of the change it describes, so the event exists exactly when the change does.';

-- ---------------------------------------------------------------------------------------------------------------
-- Identity functions
-- ---------------------------------------------------------------------------------------------------------------

create function coord.touch_agent(p_agent_id text, p_agent_type text, p_session_id text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into coord.agents as a (agent_id, agent_type, last_session_id)
  values (p_agent_id, coalesce(p_agent_type, 'unknown'), p_session_id)
  on conflict (agent_id) do update
    set last_seen_at = now(),
        agent_type = coalesce(p_agent_type, a.agent_type),
        last_session_id = coalesce(p_session_id, a.last_session_id);

  if p_session_id is not null then
    insert into coord.sessions as s (agent_id, session_id, agent_type)
    values (p_agent_id, p_session_id, coalesce(p_agent_type, 'unknown'))
    on conflict (agent_id, session_id) do update
      set last_seen_at = now();
  end if;
end;
$$;
comment on function coord.touch_agent(text, text, text) is
  'Records that an agent (and its session, when given) made an authenticated call: presence for everyone else.';

create function coord.authenticate(p_key_hash text, p_agent_id text, p_agent_type text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  k coord.api_keys;
  v_agent text;
begin
  select * into k from coord.api_keys where key_hash = p_key_hash and revoked_at is null;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'invalid_key');
  end if;

  if k.scope = 'agent' and p_agent_id is not null and p_agent_id <> k.agent_id then
    return jsonb_build_object('ok', false, 'code', 'key_bound_to_other_agent', 'bound_agent_id', k.agent_id);
  end if;
  v_agent := coalesce(p_agent_id, k.agent_id);

  perform coord.touch_agent(v_agent, p_agent_type, p_session_id);
  -- last_used_at is for operators, not for auditing each call: write it at most once a minute.
  update coord.api_keys set last_used_at = now()
   where id = k.id and (last_used_at is null or last_used_at < now() - interval '1 minute');

  return jsonb_build_object('ok', true, 'agent_id', v_agent, 'scope', k.scope, 'trust_level', k.trust_level);
end;
$$;
comment on function coord.authenticate(text, text, text, text) is
  'Resolves a database API key (by SHA-256 digest) to an identity and records the agent in the same round trip. '
  'Answers {ok:false, code} for unknown/revoked keys and for agent keys used under another agent id.';

create function coord.create_api_key(p_key_hash text, p_key_prefix text, p_agent_id text, p_scope text,
                                     p_trust_level int, p_label text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into coord.api_keys (key_hash, key_prefix, agent_id, scope, trust_level, label)
  values (p_key_hash, p_key_prefix, p_agent_id, p_scope, p_trust_level, p_label)
  returning id into v_id;
  perform coord.emit('key.created', p_agent_id, null, v_id::text,
                     jsonb_build_object('scope', p_scope, 'trust_level', p_trust_level, 'prefix', p_key_prefix));
  return jsonb_build_object('id', v_id, 'agent_id', p_agent_id, 'scope', p_scope, 'trust_level', p_trust_level);
end;
$$;
comment on function coord.create_api_key(text, text, text, text, int, text) is
  'Stores a new API key by digest. The plaintext key is shown once by the caller and never stored.';

create function coord.revoke_api_key(p_key text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  -- Accepts the key id or its prefix, so an operator can revoke without holding the key itself.
  with revoked as (
    update coord.api_keys set revoked_at = now()
     where revoked_at is null and (id::text = p_key or key_prefix = p_key)
    returning id, agent_id
  )
  select array_agg(id) into v_ids from revoked;
  if v_ids is not null then
    perform coord.emit('key.revoked', null, null, array_to_string(v_ids, ','), '{}'::jsonb);
  end if;
  return jsonb_build_object('revoked', coalesce(array_length(v_ids, 1), 0));
end;
$$;
comment on function coord.revoke_api_key(text) is 'Revokes the key(s) with this id or prefix; takes effect on the next request.';

create function coord.heartbeat(p_agent_id text, p_session_id text, p_agent_type text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  s coord.sessions;
begin
  perform coord.touch_agent(p_agent_id, p_agent_type, p_session_id);
  -- Triggers of later capabilities hang on this column: they renew the session's lock and task leases.
  update coord.sessions set last_heartbeat_at = now(), ended_at = null
   where agent_id = p_agent_id and session_id = p_session_id
  returning * into s;
  return jsonb_build_object('session_id', s.session_id, 'heartbeat_at', s.last_heartbeat_at);
end;
$$;
comment on function coord.heartbeat(text, text, text) is
  'Marks a session alive. Capabilities renew the leases of live sessions from triggers on last_heartbeat_at.';

create function coord.end_session(p_agent_id text, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_found boolean;
begin
  -- Triggers on ended_at release what the session held (locks, claims).
  update coord.sessions set ended_at = now()
   where agent_id = p_agent_id and session_id = p_session_id and ended_at is null;
  v_found := found;
  if v_found then
    perform coord.emit('session.ended', p_agent_id, p_session_id, p_session_id, '{}'::jsonb);
  end if;
  return jsonb_build_object('session_id', p_session_id, 'ended', v_found);
end;
$$;
comment on function coord.end_session(text, text) is 'Ends a session; capabilities release its locks and claims from triggers on ended_at.';

-- ---------------------------------------------------------------------------------------------------------------
-- Fencing tokens, shared by every lease-like capability (locks, task claims)
-- ---------------------------------------------------------------------------------------------------------------

create sequence coord.fencing_seq as bigint;
comment on sequence coord.fencing_seq is 'Source of fencing tokens: one sequence for locks and claims, so tokens are comparable across both.';

create function coord.next_fencing_token()
returns bigint
language sql
volatile
set search_path = ''
as $$ select nextval('coord.fencing_seq') $$;
comment on function coord.next_fencing_token() is
  'A strictly increasing fencing token. Every grant of a lock or a task claim takes one; a holder passes it back with '
  'each action, and an action with an older token than the current grant is refused (lock_lost / lease_lost).';

-- ---------------------------------------------------------------------------------------------------------------
-- Status
-- ---------------------------------------------------------------------------------------------------------------

create function coord.schema_version()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v text;
begin
  -- Our runner records migrations in coord_migrations; `supabase db push` records them in supabase_migrations.
  if to_regclass('coord_migrations.applied') is not null then
    execute 'select max(name) from coord_migrations.applied' into v;
  end if;
  if v is null and to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select max(version || ''_'' || coalesce(name, '''')) from supabase_migrations.schema_migrations' into v;
  end if;
  return coalesce(v, 'unknown');
end;
$$;
comment on function coord.schema_version() is 'The newest applied migration, from whichever runner applied them.';

create function coord.count_if_exists(p_table text, p_where text)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  n bigint;
begin
  if to_regclass(p_table) is null then
    return 0;
  end if;
  execute format('select count(*) from %s where %s', p_table, p_where) into n;
  return n;
end;
$$;
comment on function coord.count_if_exists(text, text) is
  'Counts rows of a capability table that may not exist yet, so status works at every schema version. Internal: '
  'its arguments are constants written in coord.status, never caller input.';

create function coord.status()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'schema_version', coord.schema_version(),
    'agents', (select count(*) from coord.agents),
    'live_sessions', (select count(*) from coord.sessions
                       where ended_at is null and last_seen_at > now() - interval '2 minutes'),
    'locks', coord.count_if_exists('coord.locks', 'expires_at > now()'),
    'tasks', coord.count_if_exists('coord.tasks', 'status in (''pending'', ''claimed'')'),
    'now', now()
  );
end;
$$;
comment on function coord.status() is 'Counts for the coordinator://status resource: agents, live sessions, active locks, open tasks.';

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges and row-level security
-- ---------------------------------------------------------------------------------------------------------------

alter table coord.agents   enable row level security;
alter table coord.sessions enable row level security;
alter table coord.api_keys enable row level security;
alter table coord.events   enable row level security;

-- Presence is public to agents reading with the anon key (the hybrid read pattern). Nothing else is.
grant select (agent_id, agent_type, last_seen_at) on coord.agents to anon, authenticated;
create policy agents_presence_read on coord.agents for select to anon, authenticated using (true);

grant all on all tables in schema coord to service_role;
grant execute on all functions in schema coord to service_role;
revoke execute on all functions in schema coord from public, anon, authenticated;
