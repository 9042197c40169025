create function coord.submit_tasks(p_agent_id text, p_session_id text, p_tasks jsonb, p_max_pending int default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  n int := jsonb_array_length(p_tasks);
  v_ids uuid[];
  v_deps uuid[][];
  v_dep_lists jsonb := '[]'::jsonb;
  v_edges_src int[] := '{}';
  v_edges_dst int[] := '{}';
  v_ext uuid[] := '{}';
  v_cycle int;
  v_missing uuid;
  v_task jsonb;
  v_dep jsonb;
  v_list uuid[];
  v_id uuid;
  v_dedup boolean;
  v_out jsonb := '[]'::jsonb;
  v_status text;
  v_cause record;
  v_open int;
  v_new int;
begin
  if n is null or n = 0 then
    return coord.refusal('invalid_input', jsonb_build_object('message', 'tasks must be a non-empty array'));
  end if;
  -- Quota (null for admins and the gateway): open tasks (pending or claimed) this agent submitted, plus the new ones.
  -- Tasks whose idempotency key already exists are not new, so retrying a stored batch is never refused by it.
  if p_max_pending is not null then
    select count(*) into v_new from jsonb_array_elements(p_tasks) x
     where x ->> 'idempotency_key' is null
        or not exists (select 1 from coord.tasks t where t.submitted_by = p_agent_id
                                                     and t.idempotency_key = x ->> 'idempotency_key');
    if v_new > 0 then
      select count(*) into v_open from coord.tasks where submitted_by = p_agent_id and status in ('pending', 'claimed');
      if v_open + v_new > p_max_pending then
        return coord.refusal('quota_exceeded', jsonb_build_object('limit', 'pending_tasks', 'max', p_max_pending,
                                                                  'held', v_open, 'requested', v_new));
      end if;
    end if;
  end if;
  select array_agg(gen_random_uuid()) into v_ids from generate_series(1, n);

  -- Resolve dependencies: a uuid names an existing task, an integer the index of another task in this batch.
  for i in 0 .. n - 1 loop
    v_list := '{}';
    for v_dep in select * from jsonb_array_elements(coalesce(p_tasks -> i -> 'depends_on', '[]'::jsonb)) loop
      if jsonb_typeof(v_dep) = 'number' then
        if (v_dep #>> '{}')::numeric <> trunc((v_dep #>> '{}')::numeric)
           or (v_dep #>> '{}')::int < 0 or (v_dep #>> '{}')::int >= n then
          return coord.refusal('unknown_dependency', jsonb_build_object('task_index', i,
            'message', format('tasks[%s].depends_on: %s is not the index of a task in this batch (0..%s)', i, v_dep, n - 1)));
        end if;
        v_edges_src := v_edges_src || i;
        v_edges_dst := v_edges_dst || (v_dep #>> '{}')::int;
        v_list := v_list || v_ids[(v_dep #>> '{}')::int + 1];
      elsif jsonb_typeof(v_dep) = 'string' and (v_dep #>> '{}') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        v_list := v_list || (v_dep #>> '{}')::uuid;
        v_ext := v_ext || (v_dep #>> '{}')::uuid;
      else
        return coord.refusal('invalid_dependency', jsonb_build_object('task_index', i,
          'message', format('tasks[%s].depends_on: %s is neither a task id (uuid) nor a batch index', i, v_dep)));
      end if;
    end loop;
    v_dep_lists := v_dep_lists || jsonb_build_array(to_jsonb(v_list));
  end loop;

  -- External dependencies must exist. Locking them FOR SHARE waits out a concurrent completion and keeps one from
  -- starting until this commits, so pending_deps below is exact and the completion will see our edges.
  if cardinality(v_ext) > 0 then
    perform 1 from coord.tasks where id = any(v_ext) order by id for share;
    select x into v_missing from unnest(v_ext) x where not exists (select 1 from coord.tasks t where t.id = x) limit 1;
    if v_missing is not null then
      return coord.refusal('unknown_dependency', jsonb_build_object('task_id', v_missing,
        'message', format('depends_on names task %s, which does not exist; submit it first or check the id', v_missing)));
    end if;
  end if;

  -- Cycles can only form inside a batch (an existing task cannot depend on one not yet created).
  if cardinality(v_edges_src) > 0 then
    with recursive e(src, dst) as (select * from unnest(v_edges_src, v_edges_dst)),
    reach(start, node) as (
      select src, dst from e
      union
      select reach.start, e.dst from reach join e on e.src = reach.node
    )
    select start into v_cycle from reach where start = node limit 1;
    if v_cycle is not null then
      return coord.refusal('dependency_cycle', jsonb_build_object('task_index', v_cycle,
        'message', format('tasks[%s] depends on itself through depends_on; remove the cycle', v_cycle)));
    end if;
  end if;

  for i in 0 .. n - 1 loop
    v_task := p_tasks -> i;
    select array_agg(x::uuid) into v_list from jsonb_array_elements_text(v_dep_lists -> i) x;
    insert into coord.tasks (id, task_type, task_description, input_data, priority, submitted_by, submitted_session,
                             idempotency_key, depends_on, pending_deps, deadline, max_attempts, retry_backoff_seconds,
                             required_agent_type, required_capabilities, exclude_submitter)
    values (v_ids[i + 1], v_task ->> 'task_type', coalesce(v_task ->> 'task_description', ''),
            coalesce(v_task -> 'input_data', '{}'::jsonb), coalesce((v_task ->> 'priority')::int, 5),
            p_agent_id, p_session_id, v_task ->> 'idempotency_key', coalesce(v_list, '{}'),
            coalesce(cardinality(v_list), 0), (v_task ->> 'deadline')::timestamptz,
            coalesce((v_task ->> 'max_attempts')::int, 3), coalesce((v_task ->> 'retry_backoff_seconds')::int, 5),
            v_task ->> 'required_agent_type',
            (select array_agg(c) from jsonb_array_elements_text(v_task -> 'required_capabilities') c),
            coalesce((v_task ->> 'exclude_submitter')::boolean, false))
    on conflict (submitted_by, idempotency_key) where idempotency_key is not null do nothing
    returning id into v_id;
    v_dedup := v_id is null;
    if v_dedup then
      -- Same key, same task: a concurrent duplicate waited for the first insert's commit and now sees it.
      select id into v_id from coord.tasks where submitted_by = p_agent_id and idempotency_key = v_task ->> 'idempotency_key';
      v_ids[i + 1] := v_id;
    end if;
    v_out := v_out || jsonb_build_array(jsonb_build_object('id', v_id, 'deduplicated', v_dedup));
  end loop;

  -- Edges and exact counts, once every id (new or deduplicated) is known.
  for i in 0 .. n - 1 loop
    if (v_out -> i ->> 'deduplicated')::boolean then continue; end if;
    v_id := v_ids[i + 1];
    -- Batch-index references may have resolved to a deduplicated (existing) task: rewrite to the real ids.
    select array_agg(case when jsonb_typeof(p_tasks -> i -> 'depends_on' -> k) = 'number'
                          then v_ids[(p_tasks -> i -> 'depends_on' ->> k)::int + 1] else (v_dep_lists -> i ->> k)::uuid end)
      into v_list from generate_series(0, jsonb_array_length(v_dep_lists -> i) - 1) k;
    if v_list is not null then
      insert into coord.task_deps (task_id, depends_on) select v_id, d from unnest(v_list) d on conflict do nothing;
      update coord.tasks set depends_on = v_list,
             pending_deps = (select count(*) from coord.tasks d where d.id = any(v_list) and d.status <> 'completed')
       where id = v_id;
    end if;
    perform coord.emit('task.submitted', p_agent_id, p_session_id, v_id::text,
                       jsonb_build_object('task_type', p_tasks -> i ->> 'task_type', 'priority', coalesce((p_tasks -> i ->> 'priority')::int, 5)));
  end loop;

  -- A dependency that already failed or was cancelled: the new task can never run; say why now.
  for i in 0 .. n - 1 loop
    if (v_out -> i ->> 'deduplicated')::boolean then continue; end if;
    select d.id, d.status into v_cause from coord.task_deps e join coord.tasks d on d.id = e.depends_on
     where e.task_id = v_ids[i + 1] and d.status in ('failed', 'cancelled') limit 1;
    if v_cause.id is not null then
      update coord.tasks set status = 'failed', finished_at = now(), updated_at = now(),
             error_message = format('dependency %s %s', v_cause.id, v_cause.status)
       where id = v_ids[i + 1] and status = 'pending';
      if found then
        perform coord.emit('task.failed', p_agent_id, p_session_id, v_ids[i + 1]::text,
                           jsonb_build_object('cause', v_cause.id, 'reason', 'dependency_' || v_cause.status));
        perform coord.fail_dependents(v_ids[i + 1], 'failed: its own dependency ' || v_cause.id || ' ' || v_cause.status);
      end if;
    end if;
  end loop;

  -- One primary-key probe per task (a lateral lookup): a plain join may be planned as a scan of the whole table.
  select jsonb_agg(jsonb_build_object('id', t.id, 'status', t.status, 'deduplicated', (o ->> 'deduplicated')::boolean,
                                      'pending_deps', t.pending_deps) order by ord)
    into v_out
    from jsonb_array_elements(v_out) with ordinality as x(o, ord)
    cross join lateral (select id, status, pending_deps from coord.tasks where id = (x.o ->> 'id')::uuid) t;
  return jsonb_build_object('tasks', v_out);
end;
$$;
comment on function coord.submit_tasks(text, text, jsonb, int) is
  'Submits a batch of tasks atomically. p_tasks: [{task_type, task_description, input_data, priority, depends_on '
  '(task ids, or indexes into this batch), deadline, max_attempts, retry_backoff_seconds, idempotency_key, '
  'required_agent_type, required_capabilities, exclude_submitter}]. Answers {tasks:[{id, status, deduplicated, '
  'pending_deps}]} or {error:{code, message}} (unknown_dependency, invalid_dependency, dependency_cycle) with nothing '
  'stored. The same idempotency_key from the same submitter returns the existing task, even under concurrent duplicates. '
  'With p_max_pending, refuses quota_exceeded when the submitter would have more open tasks than that.';
