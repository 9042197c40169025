create function coord.reap_tasks()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_expired int := 0;
  v_late int := 0;
  r record;
begin
  -- SKIP LOCKED: many claimers run this at once; a row another one is handling is theirs.
  for r in select id, claimed_by, claimed_session, lease_seconds from coord.tasks
            where status = 'claimed' and lease_expires_at <= now()
            order by lease_expires_at limit 100 for update skip locked loop
    -- A heartbeating session's lease ends with its liveness: name that cause when the session is dead.
    perform coord.requeue_lost(r.id, case when coord.session_dead(r.claimed_by, r.claimed_session, r.lease_seconds)
                                          then 'session expired' else 'lease expired' end);
    v_expired := v_expired + 1;
  end loop;
  for r in
    update coord.tasks t set status = 'failed', error_message = 'deadline passed before any worker completed it',
           updated_at = now(), finished_at = now()
     where t.id in (select id from coord.tasks where status = 'pending' and deadline <= now()
                     limit 100 for update skip locked)
    returning t.id, t.submitted_by
  loop
    perform coord.emit('task.failed', r.submitted_by, null, r.id::text, jsonb_build_object('reason', 'deadline_passed'));
    perform coord.fail_dependents(r.id, 'failed: deadline passed');
    v_late := v_late + 1;
  end loop;
  return jsonb_build_object('lease_expired', v_expired, 'deadline_failed', v_late);
end;
$$;
comment on function coord.reap_tasks() is
  'Returns tasks whose lease expired to the queue (or dead-letters them) and fails pending tasks past their deadline. '
  'Every claim runs it first, so no timer process is needed; callable on its own for monitoring.';
