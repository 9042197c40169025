create function coord.expire_sessions(p_limit int default 100)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  s coord.sessions;
  n int := 0;
  v_pruned int;
begin
  -- SKIP LOCKED: heartbeats, claims and the upkeep all run this; a session another one is handling is theirs.
  for s in select * from coord.sessions
            where ended_at is null and live_until <= now()
            order by live_until
            limit least(greatest(coalesce(p_limit, 100), 1), 10000)
            for update skip locked loop
    perform coord.session_expire(s);
    n := n + 1;
  end loop;
  -- Notices nobody came back for: the session's process is gone for good.
  with old as (
    delete from coord.session_notices
     where id in (select id from coord.session_notices where created_at < now() - interval '1 day' limit 1000)
    returning 1
  )
  select count(*) into v_pruned from old;
  return jsonb_build_object('expired', n, 'notices_pruned', v_pruned);
end;
$$;
comment on function coord.expire_sessions(int) is
  'Ends up to p_limit sessions whose liveness has lapsed (no heartbeat for their timeout): session.expired, then their '
  'locks and claims released and working memory folded by the ended_at triggers, each naming the cause. Correctness '
  'never waits for it (a dead session''s locks and claims have already expired); it records what happened and tells '
  'waiters. Run by every heartbeat and claim, the upkeep timer (npm start) and pg_cron on Supabase. Also prunes '
  'notices older than a day.';
