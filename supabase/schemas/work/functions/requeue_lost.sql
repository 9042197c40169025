create function coord.requeue_lost(p_id uuid, p_why text)
returns text
language plpgsql
set search_path = ''
as $$
declare
  t coord.tasks;
begin
  -- The attempt was counted at claim time. Out of attempts: dead-letter, and fail what waits on it.
  update coord.tasks
     set status = case when attempts >= max_attempts then 'failed' else 'pending' end,
         lease_lost_by = claimed_by,
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
    perform coord.emit('task.failed', t.lease_lost_by, null, t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
    perform coord.fail_dependents(t.id, 'failed: ' || t.error_message);
  else
    perform coord.emit('task.released', t.lease_lost_by, null, t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
  end if;
  return t.status;
end;
$$;
comment on function coord.requeue_lost(uuid, text) is
  'Internal: a claim ended without completion (lease expired, session ended): back to the queue with a note of who '
  'lost it, or failed when that was the last attempt. The caller holds the row lock.';
