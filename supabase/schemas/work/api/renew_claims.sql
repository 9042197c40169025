create function coord.renew_claims(p_agent_id text, p_task_id uuid, p_token bigint, p_lease_seconds int,
                                   p_note text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  t coord.tasks;
begin
  select * into t from coord.tasks where id = p_task_id for update;
  if not found then
    return coord.refusal('not_found', jsonb_build_object('task_id', p_task_id));
  end if;
  if t.status <> 'claimed' or t.claimed_by <> p_agent_id or (p_token is not null and p_token <> t.claim_token)
     or t.lease_expires_at <= now() then
    return coord.refusal(case when t.status = 'cancelled' then 'cancelled'
      when t.status in ('completed', 'failed') then 'already_completed'
      when t.claimed_by = p_agent_id and t.lease_expires_at <= now() then 'lease_lost'
      when p_token is not null and p_token < t.claim_token then 'lease_lost'
      when t.status = 'pending' and t.lease_lost_by = p_agent_id then 'lease_lost'
      else 'not_claimant' end,
      jsonb_build_object('task_id', t.id, 'status', t.status, 'claimed_by', t.claimed_by));
  end if;
  -- Capped at the claiming session's live_until when it heartbeats. A note joins the task's progress notes (the
  -- last 10 are kept), which the next claimant sees if the task comes back.
  update coord.tasks set lease_seconds = coalesce(p_lease_seconds, lease_seconds),
         lease_expires_at = coord.session_lease_end(claimed_by, claimed_session, now(),
                                                    coalesce(p_lease_seconds, lease_seconds)),
         notes = case when p_note is null then notes
                      else coord.task_add_note(notes, p_agent_id, p_note) end,
         updated_at = now()
   where id = p_task_id returning * into t;
  perform coord.emit('task.renewed', p_agent_id, t.claimed_session, t.id::text,
                     jsonb_build_object('claim_token', t.claim_token, 'lease_expires_at', t.lease_expires_at));
  return jsonb_build_object('task_id', t.id, 'claim_token', t.claim_token, 'lease_expires_at', t.lease_expires_at);
end;
$$;
comment on function coord.renew_claims(text, uuid, bigint, int, text) is
  'Extends the lease of one claimed task by p_lease_seconds (default: the claim''s own lease). Only the current '
  'claimant, with the current token when given, before the lease expires; otherwise a refusal (lease_lost, not_claimant, …). '
  'p_note (optional) is a progress note kept on the task for whoever claims it next.';
