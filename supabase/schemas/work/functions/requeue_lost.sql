create function coord.requeue_lost(p_id uuid, p_why text, p_notify boolean default true)
returns text
language plpgsql
set search_path = ''
as $$
declare
  t coord.tasks;
begin
  -- The attempt was counted at claim time. Out of attempts: dead-letter, and fail what waits on it. The claim that
  -- ended is kept as the handoff for whoever claims the task next (the SET list reads the row before the update).
  update coord.tasks
     set status = case when attempts >= max_attempts then 'failed' else 'pending' end,
         lease_lost_by = claimed_by,
         handoff = jsonb_build_object('agent_id', claimed_by, 'session_id', claimed_session, 'claim_token', claim_token,
                                      'attempt', attempts, 'claimed_at', claimed_at, 'released_at', now(),
                                      'why', p_why),
         error_message = case when attempts >= max_attempts
                              then left(p_why || ' on the last attempt (' || attempts || '/' || max_attempts || ')', 2000)
                              else error_message end,
         finished_at = case when attempts >= max_attempts then now() end,
         claimed_by = null, claimed_session = null, lease_expires_at = null, updated_at = now()
   where id = p_id and status = 'claimed'
  returning * into t;
  if not found then
    return null;
  end if;
  if t.status = 'failed' then
    perform coord.emit('task.failed', t.lease_lost_by, t.handoff ->> 'session_id', t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
    perform coord.fail_dependents(t.id, 'failed: ' || t.error_message);
  else
    perform coord.emit('task.released', t.lease_lost_by, t.handoff ->> 'session_id', t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
  end if;
  if p_notify then
    perform coord.session_notice(t.lease_lost_by, t.handoff ->> 'session_id', 'claim_lost', t.id::text, null,
                                 t.claim_token, p_why, null, now(),
                                 jsonb_build_object('status', t.status, 'task_type', t.task_type));
  end if;
  return t.status;
end;
$$;
comment on function coord.requeue_lost(uuid, text, boolean) is
  'Internal: a claim ended without completion (lease expired, session expired or ended): back to the queue with a '
  'handoff note of who lost it and why, or failed when that was the last attempt; p_notify leaves a notice for the '
  'claimant''s session. The caller holds the row lock.';
