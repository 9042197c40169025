create function coord.task_json(t coord.tasks)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  -- plpgsql, not SQL: a SQL-language function with SET is never inlined and, on Postgres 15, is planned anew in
  -- every statement that calls it; this one runs for every task a claim or an inspect answers.
  return jsonb_build_object(
    'id', t.id, 'task_type', t.task_type, 'task_description', t.task_description, 'input_data', t.input_data,
    'priority', t.priority, 'status', t.status, 'submitted_by', t.submitted_by, 'depends_on', to_jsonb(t.depends_on),
    'pending_deps', t.pending_deps, 'deadline', t.deadline, 'attempts', t.attempts, 'max_attempts', t.max_attempts,
    'not_before', t.not_before, 'required_agent_type', t.required_agent_type,
    'required_capabilities', to_jsonb(t.required_capabilities), 'exclude_submitter', t.exclude_submitter,
    'idempotency_key', t.idempotency_key, 'claimed_by', t.claimed_by, 'claim_token', t.claim_token,
    'claimed_at', t.claimed_at, 'lease_expires_at', t.lease_expires_at, 'lease_lost_by', t.lease_lost_by,
    'result', t.result, 'error_message', t.error_message, 'created_at', t.created_at, 'updated_at', t.updated_at,
    'finished_at', t.finished_at, 'handoff', t.handoff, 'notes', t.notes);
end;
$$;
comment on function coord.task_json(coord.tasks) is 'Internal: the full JSON shape of one task, as inspect and claim answer it.';
