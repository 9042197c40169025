create function coord.acquire_locks(p_repo text, p_agent_id text, p_session_id text, p_keys text[],
                                    p_reason text, p_ttl_seconds int, p_max_held int default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
-- A hot path of small plans: JIT compiling one (past jit_above_cost on a large table) costs more than it saves.
set jit = off
as $$
declare
  v_keys text[];
  v_now timestamptz;
  v_conflicts jsonb;
  v_locks jsonb;
  v_bad text;
  v_expires timestamptz;
  gone coord.locks;
  v_overlap coord.locks[];
  o coord.locks;
  v_expired boolean := false;
  v_conflicted boolean := false;
  v_held int;
  r record;
begin
  select array_agg(distinct k order by k) into v_keys from unnest(p_keys) as k;
  if v_keys is null or cardinality(v_keys) > 50 then
    return coord.refusal('invalid_input', jsonb_build_object('message', 'send 1 to 50 keys'));
  end if;
  select k into v_bad from unnest(v_keys) as k where not coord.lock_key_valid(k) limit 1;
  if found then
    return coord.refusal('invalid_key', jsonb_build_object('key', v_bad));
  end if;
  if p_ttl_seconds is null or p_ttl_seconds not between 60 and 28800 then
    return coord.refusal('invalid_input', jsonb_build_object('message', 'ttl must be 1 to 480 minutes'));
  end if;
  -- Quota (null for admins): live locks held elsewhere plus these keys. Counted before the advisory locks, so
  -- concurrent acquires of one agent may pass it together: the cap bounds an agent, it is not a fencing rule.
  if p_max_held is not null then
    select count(*) into v_held from coord.locks
     where agent_id = p_agent_id and expires_at > now() and not (repo = p_repo and key = any(v_keys));
    if v_held + cardinality(v_keys) > p_max_held then
      return coord.refusal('quota_exceeded', jsonb_build_object('limit', 'held_locks', 'max', p_max_held,
                                                                'held', v_held, 'requested', cardinality(v_keys)));
    end if;
  end if;

  -- Before any advisory lock: two first acquires in a new repo wait on each other here, never in a cycle.
  if not coord.lock_repo_known(p_repo) then
    insert into coord.lock_repos (repo) values (p_repo) on conflict do nothing;
  end if;

  perform coord.lock_guard(p_repo, v_keys);
  v_now := clock_timestamp();

  -- One probe for every overlapping row, live or expired: the conflicts are its live rows of other agents, and the
  -- expiry sweep below runs only when it saw an expired row (one statement fewer on the common path).
  v_overlap := array(select c from coord.lock_conflicts(p_repo, v_keys, '-infinity') c);
  foreach o in array v_overlap loop
    v_expired := v_expired or o.expires_at <= v_now;
    v_conflicted := v_conflicted or (o.expires_at > v_now and o.agent_id <> p_agent_id);
  end loop;

  -- Expired rows we hold the exclusive cover for (the keys themselves, the contents of requested scopes).
  -- Expired ancestor scopes are only read as expired, not deleted: we hold them shared.
  if v_expired then
    for gone in
      delete from coord.locks x
       using unnest(v_keys) as k
       where x.repo = p_repo and x.expires_at <= v_now
         and (x.key = k or (right(k, 1) = '/' and x.key > k collate "C" and x.key < (left(k, -1) || '0') collate "C"))
      returning x.*
    loop
      perform coord.lock_lost(gone, 'lock.expired');
    end loop;
  end if;

  -- Each conflict carries its holder's liveness: alive, or unresponsive and free by its expiry (refusals only).
  if v_conflicted then
    select jsonb_agg(coord.lock_holder_json(c, v_now) order by c.key) into v_conflicts
      from unnest(v_overlap) c
     where c.expires_at > v_now and c.agent_id <> p_agent_id;
    return coord.refusal('lock_conflict', jsonb_build_object('repo', p_repo, 'conflicts', v_conflicts, 'now', v_now));
  end if;

  -- A heartbeating session's lock lives no longer than the session's liveness; heartbeats renew both.
  v_expires := coord.session_lease_end(p_agent_id, p_session_id, v_now, p_ttl_seconds);

  with up as (
    insert into coord.locks as l (repo, key, agent_id, session_id, reason, token, ttl_seconds,
                                  acquired_at, renewed_at, expires_at)
    select p_repo, k, p_agent_id, p_session_id, p_reason, coord.next_fencing_token(), p_ttl_seconds,
           v_now, v_now, v_expires
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
  return jsonb_build_object('repo', p_repo, 'locks', v_locks);
end;
$$;
comment on function coord.acquire_locks(text, text, text, text[], text, int, int) is
  'All-or-nothing acquire of up to 50 keys for an agent (and its session lease). Answers {repo, locks:[{key, token, '
  'expires_at, refreshed}]} or refuses lock_conflict with conflicts:[live overlapping locks of other agents, with '
  'holder liveness] and now. '
  'Re-acquiring an own lock refreshes it and keeps its token; a new grant takes a new fencing token. '
  'Sweeps expired rows it covers. Deadlock-free under any concurrency (see coord.lock_guard). Under a heartbeating '
  'session the expiry is capped at the session''s live_until; each conflict names its holder''s liveness. With '
  'p_max_held, refuses quota_exceeded when the agent would hold more live locks than that.';
