create function coord.pending_summary(p_limit int)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object('tasks', coalesce(jsonb_agg(jsonb_build_object('id', id, 'task_type', task_type,
           'priority', priority, 'task_description', left(task_description, 120), 'submitted_by', submitted_by,
           'created_at', created_at) order by priority, created_at), '[]'::jsonb))
    from (select * from coord.tasks
           where status = 'pending' and pending_deps = 0 and not_before <= now() and (deadline is null or deadline > now())
           order by priority, created_at limit least(greatest(coalesce(p_limit, 20), 1), 100)) t
$$;
comment on function coord.pending_summary(int) is 'The work://pending resource: the most urgent ready tasks, compact.';
