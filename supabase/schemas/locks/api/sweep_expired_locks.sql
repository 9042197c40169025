create function coord.sweep_expired_locks(p_limit int default 1000)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r coord.locks;
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
    perform coord.lock_lost(r, 'lock.expired');
    n := n + 1;
  end loop;
  return jsonb_build_object('swept', n);
end;
$$;
comment on function coord.sweep_expired_locks(int) is
  'Deletes up to p_limit expired locks (each recorded as lock.expired). Expired locks block nobody; this keeps the '
  'table small and tells waiters. Run by heartbeats and by POST /locks/sweep.';
