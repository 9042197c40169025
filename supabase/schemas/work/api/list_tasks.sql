create function coord.list_tasks(p_status text, p_task_type text, p_submitted_by text, p_limit int,
                                 p_after jsonb default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_limit int := least(greatest(coalesce(p_limit, 50), 1), 200);
  -- The sort key: pending tasks by priority (most urgent first), then every other task; newest first within each.
  v_rank int;
  v_at timestamptz;
  v_id uuid;
  v_rows jsonb;
  v_last jsonb;
  v_more boolean;
begin
  if p_after is not null then
    begin
      v_rank := (p_after ->> 0)::int;
      v_at := (p_after ->> 1)::timestamptz;
      v_id := (p_after ->> 2)::uuid;
    exception when others then
      v_rank := null;
    end;
    if v_rank is null or v_at is null or v_id is null then
      return coord.refusal('invalid_cursor');
    end if;
  end if;
  with page as (
    select t.*, case when t.status = 'pending' then t.priority else 11 end as rank
      from coord.tasks t
     where (p_status is null or t.status = p_status)
       and (p_task_type is null or t.task_type = p_task_type)
       and (p_submitted_by is null or t.submitted_by = p_submitted_by)
       -- Keyset: strictly after the previous page's last row in (rank asc, created_at desc, id desc).
       and (p_after is null
            or (case when t.status = 'pending' then t.priority else 11 end) > v_rank
            or ((case when t.status = 'pending' then t.priority else 11 end) = v_rank
                and (t.created_at < v_at or (t.created_at = v_at and t.id < v_id))))
     order by rank, t.created_at desc, t.id desc
     limit v_limit + 1
  ), numbered as (
    select p.*, row_number() over (order by p.rank, p.created_at desc, p.id desc) as n from page p
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'task_type', x.task_type,
           'status', x.status, 'priority', x.priority, 'task_description', left(x.task_description, 200),
           'submitted_by', x.submitted_by, 'claimed_by', x.claimed_by, 'attempts', x.attempts,
           'max_attempts', x.max_attempts, 'pending_deps', x.pending_deps, 'error_message', left(x.error_message, 200),
           'created_at', x.created_at, 'updated_at', x.updated_at) order by x.n) filter (where x.n <= v_limit),
           '[]'::jsonb),
         (array_agg(jsonb_build_array(x.rank, x.created_at, x.id) order by x.n) filter (where x.n <= v_limit))[v_limit],
         count(*) > v_limit
    into v_rows, v_last, v_more
    from numbered x;
  return jsonb_build_object('tasks', v_rows, 'next_cursor', case when v_more then v_last end);
end;
$$;
comment on function coord.list_tasks(text, text, text, int, jsonb) is
  'Compact task summaries (no input or result) filtered by status, type and submitter, pending ones most urgent '
  'first, then newest first; at most 200 a page. Keyset paging: next_cursor (set when more follow) is the last row''s '
  'sort key [rank, created_at, id]; pass it back as p_after.';
