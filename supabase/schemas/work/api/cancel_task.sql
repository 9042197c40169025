create function coord.cancel_task(p_agent_id text, p_is_admin boolean, p_task_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  t coord.tasks;
  v_failed int;
  v_session text;
begin
  select * into t from coord.tasks where id = p_task_id for update;
  if not found then
    return coord.refusal('not_found', jsonb_build_object('task_id', p_task_id));
  end if;
  if t.submitted_by <> p_agent_id and not p_is_admin then
    return coord.refusal('not_submitter', jsonb_build_object('task_id', t.id, 'submitted_by', t.submitted_by));
  end if;
  if t.status = 'cancelled' then
    -- Cancelled already (by this call's first attempt, or anyone): the state asked for; a retry changes nothing.
    return jsonb_build_object('task_id', t.id, 'status', t.status, 'dependents_failed', 0, 'replayed', true);
  end if;
  if t.status in ('completed', 'failed') then
    return coord.refusal('already_completed', jsonb_build_object('task_id', t.id, 'status', t.status));
  end if;
  v_session := t.claimed_session;
  update coord.tasks set status = 'cancelled', error_message = left(coalesce(p_reason, 'cancelled by ' || p_agent_id), 2000),
         lease_lost_by = claimed_by, claimed_by = null, claimed_session = null, lease_expires_at = null,
         finished_at = now(), updated_at = now()
   where id = p_task_id returning * into t;
  perform coord.emit('task.cancelled', p_agent_id, null, t.id::text,
                     jsonb_build_object('reason', left(p_reason, 200), 'was_claimed_by', t.lease_lost_by));
  -- A claimant still working on it is told on its next MCP tool call (the claim is gone; its result is not wanted).
  if t.lease_lost_by is not null then
    perform coord.session_notice(t.lease_lost_by, v_session, 'claim_lost', t.id::text, null, t.claim_token,
                                 'cancelled', p_agent_id, now(), jsonb_build_object('reason', left(p_reason, 200)));
  end if;
  v_failed := coord.fail_dependents(t.id, 'cancelled: ' || t.error_message);
  return jsonb_build_object('task_id', t.id, 'status', t.status, 'dependents_failed', v_failed);
end;
$$;
comment on function coord.cancel_task(text, boolean, uuid, text) is
  'Cancels a pending or claimed task (its submitter, or an admin). A claimant''s later completion is refused '
  '(cancelled); waiting dependents fail naming this task. Cancelling a cancelled task answers its state (replayed).';
