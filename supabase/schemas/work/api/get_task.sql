create function coord.get_task(p_task_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select coord.task_json(t) || jsonb_build_object(
              'dependents', (select count(*) from coord.task_deps d where d.depends_on = t.id),
              'ready', t.status = 'pending' and t.pending_deps = 0 and t.not_before <= now()
                       and (t.deadline is null or t.deadline > now()))
       from coord.tasks t where t.id = p_task_id),
    coord.refusal('not_found', jsonb_build_object('task_id', p_task_id)))
$$;
comment on function coord.get_task(uuid) is 'One task in full, with its dependent count and whether it is ready now; refusal not_found when unknown.';
