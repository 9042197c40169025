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
  -- Each to now + its TTL, but never past the session's live_until: a session that stops heartbeating holds nothing
  -- past it. Only live locks: one that expired is lost, however late the heartbeat.
  with renewed as (
    update coord.locks l
       set expires_at = least(v_now + make_interval(secs => l.ttl_seconds), coalesce(new.live_until, 'infinity')),
           renewed_at = v_now
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
  'Trigger: a session heartbeat extends each live lock of that agent+session to now + its TTL, capped at the '
  'session''s live_until (one lock.renewed event per heartbeat), and sweeps a few expired locks.';

create trigger locks_renew after update of last_heartbeat_at on coord.sessions
  for each row when (new.ended_at is null and new.last_heartbeat_at is distinct from old.last_heartbeat_at)
  execute function coord.locks_on_heartbeat();
