create function coord.list_tasks(p_status text, p_task_type text, p_submitted_by text, p_limit int)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object('tasks', coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'task_type', t.task_type,
           'status', t.status, 'priority', t.priority, 'task_description', left(t.task_description, 200),
           'submitted_by', t.submitted_by, 'claimed_by', t.claimed_by, 'attempts', t.attempts,
           'max_attempts', t.max_attempts, 'pending_deps', t.pending_deps, 'error_message', left(t.error_message, 200),
           'created_at', t.created_at, 'updated_at', t.updated_at)
         order by case when t.status = 'pending' then t.priority end, t.created_at desc), '[]'::jsonb))
    from (select * from coord.tasks t
           where (p_status is null or t.status = p_status)
             and (p_task_type is null or t.task_type = p_task_type)
             and (p_submitted_by is null or t.submitted_by = p_submitted_by)
           order by case when t.status = 'pending' then t.priority end, t.created_at desc
           limit least(greatest(coalesce(p_limit, 50), 1), 200)) t
$$;
comment on function coord.list_tasks(text, text, text, int) is
  'Compact task summaries (no input or result) filtered by status, type and submitter; at most 200, pending ones most '
  'urgent first, otherwise newest first.';
