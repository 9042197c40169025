create function coord.fail_dependents(p_root uuid, p_reason text)
returns int
language plpgsql
set search_path = ''
as $$
declare
  v_count int := 0;
  r record;
begin
  -- Every transitive dependent still waiting fails, naming the task that caused it. Dependents are never
  -- claimed (their pending_deps > 0), so only pending ones can be waiting.
  for r in
    with recursive down(id) as (
      select d.task_id from coord.task_deps d where d.depends_on = p_root
      union
      select d.task_id from coord.task_deps d join down on d.depends_on = down.id
    )
    update coord.tasks t
       set status = 'failed', updated_at = now(), finished_at = now(),
           error_message = left('dependency ' || p_root || ' ' || p_reason, 2000)
      from down
     where t.id = down.id and t.status = 'pending'
    returning t.id, t.submitted_by
  loop
    perform coord.emit('task.failed', r.submitted_by, null, r.id::text,
                       jsonb_build_object('cause', p_root, 'reason', 'dependency_' || split_part(p_reason, ':', 1)));
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
comment on function coord.fail_dependents(uuid, text) is
  'Internal: fails every transitive dependent of a failed or cancelled task with a message naming the cause, so no '
  'task waits forever on work that will never complete.';
