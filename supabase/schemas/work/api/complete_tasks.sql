create function coord.complete_tasks(p_agent_id text, p_session_id text, p_items jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
-- A hot path of small plans: JIT compiling one (past jit_above_cost on a large table) costs more than it saves.
set jit = off
as $$
declare
  it jsonb;
  v_ord bigint;
  t coord.tasks;
  v_id uuid;
  v_token bigint;
  v_code text;
  v_out jsonb := '[]'::jsonb;
  v_backoff int;
  v_replay boolean;
begin
  -- Items in id order: two batch completions over overlapping ids then lock rows in the same order.
  for it, v_ord in select x, ord from jsonb_array_elements(p_items) with ordinality as e(x, ord)
                   order by x ->> 'task_id', ord loop
    v_id := (it ->> 'task_id')::uuid;
    v_token := (it ->> 'claim_token')::bigint;
    v_code := null;
    v_replay := false;
    select * into t from coord.tasks where id = v_id for update;
    if not found then
      v_code := 'not_found';
    elsif t.status = 'cancelled' then
      v_code := 'cancelled';
    elsif t.status in ('completed', 'failed') then
      -- Reported again with the token of the claim that finished it: a retry after an unknown outcome. Answer the
      -- state it left, change nothing.
      v_replay := v_token is not null and v_token = t.claim_token;
      v_code := case when v_replay then null else 'already_completed' end;
    elsif t.status = 'pending' and v_token is not null and v_token = t.claim_token
          and (t.handoff ->> 'claim_token')::bigint = v_token and t.handoff ->> 'why' like 'failed: %' then
      -- A failure reported again with the token of the claim it ended (the retry it scheduled is waiting): the same
      -- retry after an unknown outcome. The handoff's 'failed: ' reason is written only by a report, below; a lease
      -- that ran out leaves another reason, and its late report stays refused.
      v_replay := true;
    elsif t.status = 'pending' then
      v_code := case when t.lease_lost_by = p_agent_id or (v_token is not null and v_token <= t.claim_token)
                     then 'lease_lost' else 'not_claimant' end;
    elsif t.claimed_by <> p_agent_id then
      v_code := case when v_token is not null and v_token < t.claim_token then 'lease_lost' else 'not_claimant' end;
    elsif v_token is not null and v_token <> t.claim_token then
      v_code := case when v_token < t.claim_token then 'lease_lost' else 'not_claimant' end;
    -- The clock, not now(): in a group commit (coord.run_work_calls) now() is the whole group's start, and a lease
    -- that ran out since must not take a completion.
    elsif t.lease_expires_at <= clock_timestamp() then
      -- Expired but not yet reaped: reap it now, so the refusal and the queue agree.
      -- The caller is the claimant and hears it in this answer: no notice.
      perform coord.requeue_lost(t.id, 'lease expired', false);
      v_code := 'lease_lost';
    end if;

    if v_replay then
      v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_ord - 1, 'task_id', v_id, 'status', t.status,
        'attempts', t.attempts, 'max_attempts', t.max_attempts, 'not_before', t.not_before, 'claim_token', t.claim_token,
        'replayed', true));
      continue;
    end if;
    if v_code is not null then
      select * into t from coord.tasks where id = v_id;
      v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_ord - 1, 'task_id', v_id) || coord.refusal(v_code,
        jsonb_build_object('task_id', v_id, 'status', t.status, 'claimed_by', t.claimed_by, 'lease_lost_by', t.lease_lost_by,
                           'lease_expires_at', t.lease_expires_at, 'claim_token', t.claim_token)));
      continue;
    end if;

    if coalesce((it ->> 'success')::boolean, true) then
      update coord.tasks set status = 'completed', result = it -> 'result', error_message = null,
             claimed_by = null, claimed_session = null, lease_expires_at = null, finished_at = now(), updated_at = now()
       where id = v_id returning * into t;
      perform coord.release_dependents(v_id);
      perform coord.emit('task.completed', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'task_type', t.task_type));
    elsif t.attempts >= t.max_attempts then
      update coord.tasks set status = 'failed', result = it -> 'result', error_message = left(it ->> 'error_message', 10000),
             claimed_by = null, claimed_session = null, lease_expires_at = null, finished_at = now(), updated_at = now()
       where id = v_id returning * into t;
      perform coord.emit('task.failed', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'task_type', t.task_type,
                                            'reason', 'max_attempts'));
      perform coord.fail_dependents(v_id, 'failed: ' || coalesce(t.error_message, 'no error message'));
    else
      -- Exponential backoff: base * 2^(attempt-1), capped at an hour.
      v_backoff := least(3600, t.retry_backoff_seconds * power(2, t.attempts - 1))::int;
      -- The attempt is kept as the handoff for the next claimant (the SET list reads the row before the update).
      update coord.tasks set status = 'pending', error_message = left(it ->> 'error_message', 10000),
             not_before = now() + make_interval(secs => v_backoff),
             handoff = jsonb_build_object('agent_id', claimed_by, 'session_id', claimed_session,
                                          'claim_token', claim_token, 'attempt', attempts, 'claimed_at', claimed_at,
                                          'released_at', now(),
                                          'why', left('failed: ' || coalesce(it ->> 'error_message', 'no error message'), 500)),
             claimed_by = null, claimed_session = null, lease_expires_at = null, updated_at = now()
       where id = v_id returning * into t;
      perform coord.emit('task.retry_scheduled', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'backoff_seconds', v_backoff));
    end if;
    v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_ord - 1, 'task_id', v_id, 'status', t.status,
      'attempts', t.attempts, 'max_attempts', t.max_attempts, 'not_before', t.not_before, 'claim_token', t.claim_token));
  end loop;
  -- Answer in the caller's order.
  return jsonb_build_object('results', (select jsonb_agg(r order by (r ->> 'index')::int) from jsonb_array_elements(v_out) r));
end;
$$;
comment on function coord.complete_tasks(text, text, jsonb) is
  'Completes claimed tasks: p_items [{task_id, claim_token, success, result, error_message}]. Only the current '
  'claimant, with the current token when given, within the lease. Success completes and unblocks dependents; failure '
  'retries with exponential backoff until max_attempts, then fails the task (dead-letter) and its dependents. Each item '
  'answers (in the caller''s order, with its index) its new state or a refusal {error: {code, …}}: not_found, '
  'lease_lost, not_claimant, already_completed, cancelled. The same report again with the token of the claim it '
  'ended (finished the task, or scheduled its retry) answers the state it left (replayed: true), so a '
  'completion is safe to retry.';
