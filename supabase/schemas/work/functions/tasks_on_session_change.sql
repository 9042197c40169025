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
  if new.ended_at is not null and old.ended_at is null and new.end_cause = 'expired' then
    -- Declared dead: its leases ended with its liveness. Never wait here (SKIP LOCKED): this runs inside heartbeats,
    -- claims and touches; a row someone else holds is reaped later as an expired lease.
    for r in select id from coord.tasks where status = 'claimed' and claimed_by = new.agent_id
                and claimed_session = new.session_id order by id for update skip locked loop
      perform coord.requeue_lost(r.id, 'session expired');
    end loop;
  elsif new.ended_at is not null and old.ended_at is null then
    -- Ended by the process itself: it knows; nobody to tell.
    for r in select id from coord.tasks where status = 'claimed' and claimed_by = new.agent_id
                and claimed_session = new.session_id order by id for update loop
      perform coord.requeue_lost(r.id, 'session ended', false);
    end loop;
  elsif new.last_heartbeat_at is distinct from old.last_heartbeat_at and new.ended_at is null then
    -- Only live leases: an expired one is already lost, however late the heartbeat. Each renewed to its own lease,
    -- but never past the session's live_until.
    update coord.tasks set lease_expires_at = least(now() + make_interval(secs => lease_seconds),
                                                    coalesce(new.live_until, 'infinity')), updated_at = now()
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
  'Trigger on coord.sessions: a heartbeat renews the session''s live task leases (capped at its live_until); ending '
  'the session returns its claims to the queue (task.released, reason session ended, or session expired with a notice '
  'for the session when it was declared dead).';

create trigger tasks_session_leases after update of last_heartbeat_at, ended_at on coord.sessions
  for each row execute function coord.tasks_on_session_change();
