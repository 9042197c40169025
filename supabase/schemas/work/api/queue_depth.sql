create function coord.queue_depth()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'by_status_type', coalesce((select jsonb_agg(jsonb_build_object('status', status, 'task_type', task_type, 'count', n)
                                                 order by status, task_type)
                                  from (select status, task_type, count(*) as n from coord.tasks group by 1, 2) g), '[]'::jsonb),
    'ready', (select count(*) from coord.tasks where status = 'pending' and pending_deps = 0 and not_before <= now()
               and (deadline is null or deadline > now())),
    'expired_leases', (select count(*) from coord.tasks where status = 'claimed' and lease_expires_at <= now()),
    'now', now())
$$;
comment on function coord.queue_depth() is 'Monitoring: task counts per status and type, ready now, and claims whose lease has expired but is not yet reaped.';
