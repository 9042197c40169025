create function coord.release_dependents(p_done uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  -- plpgsql for a cached plan: it runs once per completed task.
  update coord.tasks t set pending_deps = t.pending_deps - 1, updated_at = now()
    from coord.task_deps d
   where d.depends_on = p_done and t.id = d.task_id and t.status = 'pending';
end;
$$;
comment on function coord.release_dependents(uuid) is 'Internal: a dependency completed; its dependents have one fewer to wait for.';
