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

create trigger locks_release after update of ended_at on coord.sessions
  for each row when (old.ended_at is null and new.ended_at is not null)
  execute function coord.locks_on_session_end();
