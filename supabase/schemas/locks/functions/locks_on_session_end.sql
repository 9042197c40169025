create function coord.locks_on_session_end()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  r record;
  gone coord.locks;
begin
  if new.end_cause = 'expired' then
    -- Declared dead: its locks expired with its liveness (none outlives live_until), so they block nobody already.
    -- Like the sweep, delete only expired rows and never wait (SKIP LOCKED, no guard): this runs inside heartbeats,
    -- claims and touches, which may hold other guards. A row someone holds, or one not yet expired, expires on its
    -- own and is swept later.
    for gone in
      delete from coord.locks l
       where (l.repo, l.key) in (select x.repo, x.key from coord.locks x
                                  where x.agent_id = new.agent_id and x.session_id = new.session_id
                                    and x.expires_at <= clock_timestamp()
                                    for update skip locked)
         and l.expires_at <= clock_timestamp()
      returning l.*
    loop
      perform coord.lock_lost(gone, 'lock.expired');
    end loop;
    return null;
  end if;

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
comment on function coord.locks_on_session_end() is
  'Trigger: ending a session releases every lock it held (lock.released, cause session_ended). A session declared '
  'dead (end_cause expired) has its expired locks deleted without waiting (lock.expired, cause session_expired, and a '
  'notice for the session).';

create trigger locks_release after update of ended_at on coord.sessions
  for each row when (old.ended_at is null and new.ended_at is not null)
  execute function coord.locks_on_session_end();
