-- The work-queue bridge: a verify:* task (tiers 1-3 on the queue) reaching a terminal state is that tier's result.
create function coord.verification_task_finished()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_rid uuid;
begin
  begin
    v_rid := (new.input_data->>'result_id')::uuid;
  exception when others then
    return null;
  end;
  if v_rid is null then
    return null;
  end if;
  if new.status = 'completed' then
    perform coord.record_result(v_rid, coalesce((new.result->>'passed')::boolean, false), new.result->>'commit_sha',
                                coalesce(new.result->>'summary', 'runner reported'), coalesce(new.result, '{}'::jsonb),
                                coalesce(old.claimed_by, 'runner'));
  else
    perform coord.record_result(v_rid, false, new.input_data->>'commit_sha',
                                format('task %s: %s', new.status, coalesce(new.error_message, 'no message')),
                                jsonb_build_object('task_status', new.status), coalesce(old.claimed_by, 'work-queue'));
  end if;
  return null;
end;
$$;
comment on function coord.verification_task_finished() is
  'Trigger on coord.tasks: when a verify:* task completes, fails or is cancelled, records that tier''s result '
  '(completed with result {"passed": true, "commit_sha": <the changeset''s sha>} is a pass; anything else a failure).';

create trigger verification_task_finished after update of status on coord.tasks
  for each row
  when (new.task_type like 'verify:%' and new.status in ('completed', 'failed', 'cancelled')
        and old.status is distinct from new.status)
  execute function coord.verification_task_finished();
