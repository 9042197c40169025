create function coord.tasks_on_session_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_n int;
  r record;
begin
  if new.ended_at is not null and old.ended_at is null then
    for r in select id from coord.tasks where status = 'claimed' and claimed_by = new.agent_id
                and claimed_session = new.session_id for update loop
      perform coord.requeue_lost(r.id, 'session ended');
    end loop;
  elsif new.last_heartbeat_at is distinct from old.last_heartbeat_at and new.ended_at is null then
    -- Only live leases: an expired one is already lost, however late the heartbeat.
    update coord.tasks set lease_expires_at = now() + make_interval(secs => lease_seconds), updated_at = now()
     where status = 'claimed' and claimed_by = new.agent_id and claimed_session = new.session_id
       and lease_expires_at > now();
    get diagnostics v_n = row_count;
    if v_n > 0 then
      perform coord.emit('task.renewed', new.agent_id, new.session_id, new.session_id, jsonb_build_object('claims', v_n));
    end if;
    -- Every live bridge heartbeats every 30 s: that is the queue's clock when nobody is claiming. Leases of dead
    -- agents come back to the queue (and their dependents stop waiting on them) without a claim to trigger it.
    perform coord.reap_tasks();
  end if;
  return null;
end;
$$;
comment on function coord.tasks_on_session_change() is
  'Trigger on coord.sessions: a heartbeat renews the session''s live task leases; ending the session returns its claims to the queue.';

create trigger tasks_session_leases after update of last_heartbeat_at, ended_at on coord.sessions
  for each row execute function coord.tasks_on_session_change();
