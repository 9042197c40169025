-- 0002 locks: file, directory and logical-key locks with fencing tokens and session leases.
--
-- Concurrency design (docs/LOCKS.md explains it at length):
--   * Keys are hierarchical: a key ending in '/' is a scope covering every key that starts with it. Two keys
--     conflict when they are equal or one is a scope containing the other.
--   * Every transaction that changes lock rows first takes transaction-level advisory locks, in ascending id order:
--     EXCLUSIVE on hash(repo, key) for each key it touches and SHARED on hash(repo, ancestor) for each ancestor
--     scope of those keys (hierarchical intention locks). So two transactions whose keys conflict are serialised,
--     transactions on disjoint subtrees run in parallel, and the single global order rules out deadlocks.
--   * A row is only ever written by a transaction holding that cover, so row-lock waits between writers cannot
--     form a cycle either. The global sweep never waits (SKIP LOCKED) and only deletes expired rows.
--   * Decisions about expiry use clock_timestamp() read after the advisory locks are held, so a decision made
--     later (in the serial order of conflicting transactions) never uses an earlier time.

create table coord.lock_repos (
  repo       text primary key
             check (length(repo) <= 200 and repo ~ '^[A-Za-z0-9_@-][A-Za-z0-9._@-]*(/[A-Za-z0-9_@-][A-Za-z0-9._@-]*)*$'),
  created_at timestamptz not null default now()
);
comment on table coord.lock_repos is
  'Repository namespaces that have held a lock. check/release/verify on a repo not listed here is refused as a '
  'likely typo; the first acquire in a repo creates it. ''default'' always exists.';
insert into coord.lock_repos (repo) values ('default');

-- Keys are stored normalised (TypeScript normalises them); this is the database's own guard, so a caller that
-- bypasses the API cannot store a key the overlap rule would misread.
create function coord.lock_key_valid(p_key text)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_key is not null
     and length(p_key) between 1 and 1024
     and p_key !~ '[\x01-\x1f\x7f\\]'
     and left(p_key, 1) <> '/'
     and p_key !~ '^[A-Za-z]:/'
     and position('//' in p_key) = 0
     and ('/' || p_key) !~ '/\.\.?(/|$)'
     and p_key !~ '^(api|db|feature):$'
     and cardinality(string_to_array(rtrim(p_key, '/'), '/')) <= 32
$$;
comment on function coord.lock_key_valid(text) is
  'True for a normalised lock key: 1-1024 characters, relative, no control characters or backslashes, no empty, '
  '"." or ".." segments, at most 32 segments. A trailing "/" makes it a scope (directory).';

create function coord.lock_ancestors(p_key text)
returns text[]
language plpgsql
immutable
strict
parallel safe
set search_path = ''
as $$
declare
  parts text[] := string_to_array(p_key, '/');
  acc text := '';
  result text[] := '{}';
begin
  -- A loop, not a query: a SQL-language function with a FROM clause is planned anew on every call on Postgres 15,
  -- and this one runs for every key of every acquire.
  for i in 1 .. cardinality(parts) - 1 loop
    acc := acc || parts[i] || '/';
    if acc <> p_key then
      result := result || acc;
    end if;
  end loop;
  return result;
end;
$$;
comment on function coord.lock_ancestors(text) is
  'The scopes (directory keys) strictly above a key, outermost first: src/auth/a.ts -> {src/, src/auth/}.';

create function coord.lock_keys_conflict(p_a text, p_b text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  select p_a = p_b
      or (right(p_a, 1) = '/' and starts_with(p_b, p_a))
      or (right(p_b, 1) = '/' and starts_with(p_a, p_b))
$$;
comment on function coord.lock_keys_conflict(text, text) is
  'The overlap rule: equal keys conflict, and a scope (key ending in /) conflicts with every key inside it.';

create table coord.locks (
  repo        text collate "C" not null,
  key         text collate "C" not null check (coord.lock_key_valid(key)),
  agent_id    text not null,
  session_id  text,
  reason      text check (length(reason) <= 500),
  token       bigint not null,
  ttl_seconds int not null check (ttl_seconds between 60 and 28800),
  acquired_at timestamptz not null,
  renewed_at  timestamptz not null,
  expires_at  timestamptz not null,
  primary key (repo, key)
);
comment on table coord.locks is
  'Locks held now (and expired ones not yet swept: a row with expires_at <= now() blocks nobody). Keyed by '
  '(repo, key); keys use the C collation so a scope''s contents are one index range. token is the fencing token '
  'of the grant; a refresh keeps it. session_id ties the lock to a session lease (renewed by heartbeats, released '
  'when the session ends); null means the TTL alone bounds it.';
create index locks_session_idx on coord.locks (agent_id, session_id);
create index locks_expires_idx on coord.locks (expires_at);

-- ---------------------------------------------------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------------------------------------------------

create function coord.lock_guard(p_repo text, p_keys text[])
returns void
language plpgsql
set search_path = ''
as $$
declare
  r record;
begin
  -- Ascending id order with shared/exclusive merged per id: the one global order that makes waits acyclic.
  for r in
    select id, bool_or(excl) as excl
      from (select hashtextextended(p_repo || E'\x1f' || k, 7321) as id, true as excl
              from unnest(p_keys) as k
            union all
            select hashtextextended(p_repo || E'\x1f' || a, 7321), false
              from unnest(p_keys) as k, unnest(coord.lock_ancestors(k)) as a) s
     group by id
     order by id
  loop
    if r.excl then
      perform pg_advisory_xact_lock(r.id);
    else
      perform pg_advisory_xact_lock_shared(r.id);
    end if;
  end loop;
end;
$$;
comment on function coord.lock_guard(text, text[]) is
  'Internal: takes the hierarchical advisory locks (exclusive on each key, shared on its ancestor scopes) in '
  'ascending id order, for the rest of the transaction. Every writer of coord.locks except the sweep calls it first.';

create function coord.lock_conflicts(p_repo text, p_keys text[], p_now timestamptz)
returns setof coord.locks
language plpgsql
stable
set search_path = ''
as $$
declare
  v_probe text[] := p_keys;
  v_scopes text[];
  k text;
begin
  -- Equal keys and ancestor scopes are point lookups: one index probe with every key and every ancestor at once.
  -- The array carries the column's collation ("C"), or the planner cannot probe the index with it.
  foreach k in array p_keys loop
    v_probe := v_probe || coord.lock_ancestors(k);
  end loop;
  v_scopes := array(select d from unnest(p_keys) as d where right(d, 1) = '/');
  if cardinality(v_scopes) = 0 then
    return query
      select * from coord.locks x where x.repo = p_repo and x.key = any(v_probe collate "C") and x.expires_at > p_now;
    return;
  end if;
  -- A requested scope also conflicts with everything inside it: in the C collation, the range
  -- [scope, scope-without-/ || '0').
  return query
    select * from coord.locks x where x.repo = p_repo and x.key = any(v_probe collate "C") and x.expires_at > p_now
    union
    select x.* from unnest(v_scopes) as d
      join coord.locks x on x.repo = p_repo and x.key > d collate "C" and x.key < (left(d, -1) || '0') collate "C"
     where x.expires_at > p_now;
end;
$$;
comment on function coord.lock_conflicts(text, text[], timestamptz) is
  'Internal: live locks (at p_now) in a repo that overlap any of the keys, whoever holds them.';

create function coord.lock_json(l coord.locks)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- plpgsql for a cached plan (see coord.lock_ancestors): it shapes every lock of every answer.
  return jsonb_build_object('key', l.key, 'agent_id', l.agent_id, 'reason', l.reason, 'token', l.token,
                            'acquired_at', l.acquired_at, 'expires_at', l.expires_at);
end;
$$;
comment on function coord.lock_json(coord.locks) is 'Internal: the public shape of a lock row (no session id).';

create function coord.lock_repo_known(p_repo text)
returns boolean
language sql
stable
set search_path = ''
as $$ select p_repo = 'default' or exists (select 1 from coord.lock_repos where repo = p_repo) $$;
comment on function coord.lock_repo_known(text) is 'Internal: whether a repo namespace exists.';

-- ---------------------------------------------------------------------------------------------------------------
-- Acquire
-- ---------------------------------------------------------------------------------------------------------------

create function coord.acquire_locks(p_repo text, p_agent_id text, p_session_id text, p_keys text[],
                                    p_reason text, p_ttl_seconds int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keys text[];
  v_now timestamptz;
  v_conflicts jsonb;
  v_locks jsonb;
  v_bad text;
  r record;
begin
  select array_agg(distinct k order by k) into v_keys from unnest(p_keys) as k;
  if v_keys is null or cardinality(v_keys) > 50 then
    return jsonb_build_object('ok', false, 'code', 'invalid_input', 'message', 'send 1 to 50 keys');
  end if;
  select k into v_bad from unnest(v_keys) as k where not coord.lock_key_valid(k) limit 1;
  if found then
    return jsonb_build_object('ok', false, 'code', 'invalid_key', 'key', v_bad);
  end if;
  if p_ttl_seconds is null or p_ttl_seconds not between 60 and 28800 then
    return jsonb_build_object('ok', false, 'code', 'invalid_input', 'message', 'ttl must be 1 to 480 minutes');
  end if;

  -- Before any advisory lock: two first acquires in a new repo wait on each other here, never in a cycle.
  if not coord.lock_repo_known(p_repo) then
    insert into coord.lock_repos (repo) values (p_repo) on conflict do nothing;
  end if;

  perform coord.lock_guard(p_repo, v_keys);
  v_now := clock_timestamp();

  -- Expired rows we hold the exclusive cover for (the keys themselves, the contents of requested scopes).
  -- Expired ancestor scopes are only read as expired, not deleted: we hold them shared.
  for r in
    delete from coord.locks x
     using unnest(v_keys) as k
     where x.repo = p_repo and x.expires_at <= v_now
       and (x.key = k or (right(k, 1) = '/' and x.key > k collate "C" and x.key < (left(k, -1) || '0') collate "C"))
    returning x.*
  loop
    perform coord.emit('lock.expired', r.agent_id, r.session_id, r.key,
                       jsonb_build_object('repo', p_repo, 'token', r.token, 'expires_at', r.expires_at));
  end loop;

  select jsonb_agg(coord.lock_json(c) order by c.key) into v_conflicts
    from coord.lock_conflicts(p_repo, v_keys, v_now) c
   where c.agent_id <> p_agent_id;
  if v_conflicts is not null then
    return jsonb_build_object('ok', false, 'code', 'lock_conflict', 'conflicts', v_conflicts, 'now', v_now);
  end if;

  with up as (
    insert into coord.locks as l (repo, key, agent_id, session_id, reason, token, ttl_seconds,
                                  acquired_at, renewed_at, expires_at)
    select p_repo, k, p_agent_id, p_session_id, p_reason, coord.next_fencing_token(), p_ttl_seconds,
           v_now, v_now, v_now + make_interval(secs => p_ttl_seconds)
      from unnest(v_keys) as k
     order by k
    on conflict (repo, key) do update
      set session_id = excluded.session_id,
          reason = coalesce(excluded.reason, l.reason),
          ttl_seconds = excluded.ttl_seconds,
          renewed_at = excluded.renewed_at,
          expires_at = excluded.expires_at
      where l.agent_id = excluded.agent_id
    returning l.*
  )
  select jsonb_agg(coord.lock_json(up) || jsonb_build_object('refreshed', up.acquired_at <> v_now) order by up.key)
    into v_locks from up;
  if coalesce(jsonb_array_length(v_locks), 0) <> cardinality(v_keys) then
    -- Unreachable while every writer takes lock_guard: a live row of another agent would have been a conflict.
    raise exception 'lock invariant violated while acquiring % in %', v_keys, p_repo;
  end if;

  for r in select * from jsonb_array_elements(v_locks) as e(j) loop
    perform coord.emit(case when (r.j ->> 'refreshed')::boolean then 'lock.refreshed' else 'lock.acquired' end,
                       p_agent_id, p_session_id, r.j ->> 'key',
                       jsonb_build_object('repo', p_repo, 'token', (r.j ->> 'token')::bigint,
                                          'expires_at', r.j -> 'expires_at', 'reason', p_reason));
  end loop;
  return jsonb_build_object('ok', true, 'repo', p_repo, 'locks', v_locks);
end;
$$;
comment on function coord.acquire_locks(text, text, text, text[], text, int) is
  'All-or-nothing acquire of up to 50 keys for an agent (and its session lease). Answers {ok:true, locks:[{key, '
  'token, expires_at, refreshed}]} or {ok:false, code:lock_conflict, conflicts:[live overlapping locks of other '
  'agents], now}. Re-acquiring an own lock refreshes it and keeps its token; a new grant takes a new fencing token. '
  'Sweeps expired rows it covers. Deadlock-free under any concurrency (see coord.lock_guard).';

-- ---------------------------------------------------------------------------------------------------------------
-- Release
-- ---------------------------------------------------------------------------------------------------------------

create function coord.release_locks(p_repo text, p_agent_id text, p_keys text[], p_force boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keys text[];
  v_now timestamptz;
  v_foreign jsonb;
  v_released jsonb;
  v_not_held jsonb;
  r record;
begin
  if not coord.lock_repo_known(p_repo) then
    return jsonb_build_object('ok', false, 'code', 'unknown_repo');
  end if;
  select array_agg(distinct k order by k) into v_keys from unnest(p_keys) as k;
  if v_keys is null or cardinality(v_keys) > 50 then
    return jsonb_build_object('ok', false, 'code', 'invalid_input', 'message', 'send 1 to 50 keys');
  end if;

  perform coord.lock_guard(p_repo, v_keys);
  v_now := clock_timestamp();

  -- All or nothing: a key held by someone else refuses the whole call unless forced.
  if not p_force then
    select jsonb_agg(coord.lock_json(l) order by l.key) into v_foreign
      from coord.locks l
     where l.repo = p_repo and l.key = any(v_keys) and l.expires_at > v_now and l.agent_id <> p_agent_id;
    if v_foreign is not null then
      return jsonb_build_object('ok', false, 'code', 'not_holder', 'held', v_foreign);
    end if;
  end if;

  v_released := '[]'::jsonb;
  for r in
    delete from coord.locks l
     where l.repo = p_repo and l.key = any(v_keys) and (p_force or l.agent_id = p_agent_id)
    returning l.*
  loop
    if r.expires_at <= v_now then
      perform coord.emit('lock.expired', r.agent_id, r.session_id, r.key,
                         jsonb_build_object('repo', p_repo, 'token', r.token, 'expires_at', r.expires_at));
      continue;
    end if;
    if r.agent_id = p_agent_id then
      perform coord.emit('lock.released', p_agent_id, r.session_id, r.key,
                         jsonb_build_object('repo', p_repo, 'token', r.token));
    else
      perform coord.emit('lock.force_released', p_agent_id, null, r.key,
                         jsonb_build_object('repo', p_repo, 'token', r.token, 'holder', r.agent_id));
    end if;
    v_released := v_released || jsonb_build_object('key', r.key, 'token', r.token, 'holder', r.agent_id);
  end loop;

  -- For each key not released: who (if anyone) holds a lock covering it now, e.g. your own scope src/.
  select jsonb_agg(jsonb_build_object('key', k, 'held_by', (
           select jsonb_build_object('agent_id', c.agent_id, 'key', c.key, 'expires_at', c.expires_at)
             from coord.lock_conflicts(p_repo, array[k], v_now) c
            order by length(c.key) limit 1)) order by k)
    into v_not_held
    from unnest(v_keys) as k
   where not exists (select 1 from jsonb_array_elements(v_released) e where e.value ->> 'key' = k);

  return jsonb_build_object('ok', true, 'repo', p_repo, 'released', v_released,
                            'not_held', coalesce(v_not_held, '[]'::jsonb), 'released_at', v_now);
end;
$$;
comment on function coord.release_locks(text, text, text[], boolean) is
  'Releases the agent''s live locks on exactly these keys (p_force: anyone''s, recorded as lock.force_released). '
  'Refuses the whole call with not_holder when another agent holds one of them and p_force is false. Answers '
  'released:[{key, token, holder}], not_held:[{key, held_by}] and released_at.';

-- ---------------------------------------------------------------------------------------------------------------
-- Check, verify, list, sweep
-- ---------------------------------------------------------------------------------------------------------------

create function coord.check_locks(p_repo text, p_keys text[], p_limit int default 200)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_locks jsonb;
  v_limit int := least(greatest(coalesce(p_limit, 200), 1), 500);
  v_total int;
begin
  if not coord.lock_repo_known(p_repo) then
    return jsonb_build_object('ok', false, 'code', 'unknown_repo');
  end if;
  if p_keys is null or cardinality(p_keys) = 0 then
    select count(*) into v_total from coord.locks where repo = p_repo and expires_at > now();
    select jsonb_agg(coord.lock_json(l) order by l.key) into v_locks
      from (select * from coord.locks where repo = p_repo and expires_at > now() order by key limit v_limit) l;
  else
    select count(*) into v_total from coord.lock_conflicts(p_repo, p_keys, now());
    select jsonb_agg(coord.lock_json(c) order by c.key) into v_locks
      from (select * from coord.lock_conflicts(p_repo, p_keys, now()) order by key limit v_limit) c;
  end if;
  return jsonb_build_object('ok', true, 'repo', p_repo, 'locks', coalesce(v_locks, '[]'::jsonb),
                            'truncated', v_total > v_limit, 'now', now());
end;
$$;
comment on function coord.check_locks(text, text[], int) is
  'Live locks in a repo overlapping the given keys (the keys themselves, scopes covering them, locks inside a '
  'requested scope), or all live locks in the repo when no keys are given. Never shows expired locks. Bounded.';

create function coord.lock_token_valid(p_repo text, p_agent_id text, p_key text, p_token bigint)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from coord.locks l
     where l.repo = p_repo and l.agent_id = p_agent_id and l.token = p_token and l.expires_at > clock_timestamp()
       and (l.key = p_key or l.key = any(coord.lock_ancestors(p_key) collate "C")))
$$;
comment on function coord.lock_token_valid(text, text, text, bigint) is
  'Fencing check for other capabilities to call inside their own transactions: true when the agent holds a live '
  'lock with this token on the key or on a scope covering it.';

create function coord.verify_lock(p_repo text, p_agent_id text, p_key text, p_token bigint)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_current jsonb;
begin
  if not coord.lock_repo_known(p_repo) then
    return jsonb_build_object('ok', false, 'code', 'unknown_repo');
  end if;
  select jsonb_agg(coord.lock_json(c) order by c.key) into v_current
    from coord.lock_conflicts(p_repo, array[p_key], clock_timestamp()) c
   where c.key = p_key or c.key = any(coord.lock_ancestors(p_key) collate "C");
  return jsonb_build_object('ok', true, 'repo', p_repo, 'key', p_key, 'agent_id', p_agent_id, 'token', p_token,
                            'held', coord.lock_token_valid(p_repo, p_agent_id, p_key, p_token),
                            'current', coalesce(v_current, '[]'::jsonb));
end;
$$;
comment on function coord.verify_lock(text, text, text, bigint) is
  'Whether an agent still holds a key (directly or through a covering scope) under a given fencing token, plus the '
  'live locks covering the key now: what a git hook or CI step asks before trusting work done under a lock.';

create function coord.current_locks(p_limit int default 200)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'locks', coalesce((select jsonb_agg(coord.lock_json(l) || jsonb_build_object('repo', l.repo) order by l.repo, l.key)
                         from (select * from coord.locks where expires_at > now() order by repo, key
                               limit least(greatest(coalesce(p_limit, 200), 1), 500)) l), '[]'::jsonb),
    'total', (select count(*) from coord.locks where expires_at > now()),
    'now', now())
$$;
comment on function coord.current_locks(int) is 'Live locks in every repo (bounded), for the locks://current resource.';

create function coord.sweep_expired_locks(p_limit int default 1000)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  n int := 0;
begin
  -- SKIP LOCKED: the sweep never waits, so it can join no deadlock; a row someone holds is theirs to handle.
  for r in
    delete from coord.locks l
     where (l.repo, l.key) in (select x.repo, x.key from coord.locks x where x.expires_at <= now()
                                order by x.expires_at limit least(greatest(coalesce(p_limit, 1000), 1), 10000)
                                for update skip locked)
       and l.expires_at <= now()
    returning l.*
  loop
    perform coord.emit('lock.expired', r.agent_id, r.session_id, r.key,
                       jsonb_build_object('repo', r.repo, 'token', r.token, 'expires_at', r.expires_at));
    n := n + 1;
  end loop;
  return jsonb_build_object('swept', n);
end;
$$;
comment on function coord.sweep_expired_locks(int) is
  'Deletes up to p_limit expired locks (each recorded as lock.expired). Expired locks block nobody; this keeps the '
  'table small and tells waiters. Run by heartbeats and by POST /locks/sweep.';

-- ---------------------------------------------------------------------------------------------------------------
-- Leases: session heartbeats renew, session end releases
-- ---------------------------------------------------------------------------------------------------------------

create function coord.locks_on_heartbeat()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  r record;
  v_now timestamptz;
  v_keys jsonb;
  n int;
begin
  for r in select repo, array_agg(key order by key) as keys from coord.locks
            where agent_id = new.agent_id and session_id = new.session_id group by repo order by repo
  loop
    perform coord.lock_guard(r.repo, r.keys);
  end loop;
  v_now := clock_timestamp();
  with renewed as (
    update coord.locks l
       set expires_at = v_now + make_interval(secs => l.ttl_seconds), renewed_at = v_now
     where l.agent_id = new.agent_id and l.session_id = new.session_id and l.expires_at > v_now
    returning l.repo, l.key
  )
  select count(*), jsonb_agg(repo || ':' || key) filter (where rn <= 20)
    into n, v_keys
    from (select *, row_number() over () as rn from renewed) s;
  if n > 0 then
    perform coord.emit('lock.renewed', new.agent_id, new.session_id, new.session_id,
                       jsonb_build_object('count', n, 'keys', v_keys));
  end if;
  -- Heartbeats arrive from every bridge every 30 s: a natural periodic sweeper, bounded per call.
  perform coord.sweep_expired_locks(100);
  return null;
end;
$$;
comment on function coord.locks_on_heartbeat() is
  'Trigger: a session heartbeat extends each live lock of that agent+session to now + its TTL (one lock.renewed '
  'event per heartbeat) and sweeps a few expired locks.';

create function coord.locks_on_session_end()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  r record;
begin
  for r in select repo, array_agg(key order by key) as keys from coord.locks
            where agent_id = new.agent_id and session_id = new.session_id group by repo order by repo
  loop
    perform coord.lock_guard(r.repo, r.keys);
  end loop;
  for r in
    delete from coord.locks l where l.agent_id = new.agent_id and l.session_id = new.session_id returning l.*
  loop
    perform coord.emit(case when r.expires_at > clock_timestamp() then 'lock.released' else 'lock.expired' end,
                       r.agent_id, r.session_id, r.key,
                       jsonb_build_object('repo', r.repo, 'token', r.token, 'cause', 'session_ended'));
  end loop;
  return null;
end;
$$;
comment on function coord.locks_on_session_end() is 'Trigger: ending a session releases every lock it held (lock.released, cause session_ended).';

create trigger locks_renew after update of last_heartbeat_at on coord.sessions
  for each row when (new.ended_at is null and new.last_heartbeat_at is distinct from old.last_heartbeat_at)
  execute function coord.locks_on_heartbeat();

create trigger locks_release after update of ended_at on coord.sessions
  for each row when (old.ended_at is null and new.ended_at is not null)
  execute function coord.locks_on_session_end();

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges and row-level security
-- ---------------------------------------------------------------------------------------------------------------

alter table coord.locks enable row level security;
alter table coord.lock_repos enable row level security;

-- Active locks are what any agent may see (the hybrid read pattern); session ids and tokens stay private.
grant select (repo, key, agent_id, reason, acquired_at, expires_at) on coord.locks to anon, authenticated;
create policy locks_active_read on coord.locks for select to anon, authenticated using (expires_at > now());

grant all on coord.locks, coord.lock_repos to service_role;
grant execute on all functions in schema coord to service_role;

-- Nothing in coord is executable by PUBLIC or the API roles (see 0001): only through the app's connection.
revoke execute on all functions in schema coord from public, anon, authenticated;
