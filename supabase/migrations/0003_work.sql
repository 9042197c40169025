-- 0003 work queue: tasks with priorities, dependencies, leases (fencing tokens shared with locks), retries with
-- backoff, deadlines, idempotent submit, and batch claims with FOR UPDATE SKIP LOCKED.
--
-- Lifecycle: pending → claimed → completed | (retry) pending | failed; pending/claimed → cancelled.
-- A task is *ready* when it is pending, all its dependencies are completed (pending_deps = 0), its backoff has
-- passed (not_before <= now()) and its deadline has not. Terminal states: completed, failed, cancelled.

create table coord.tasks (
  id                    uuid primary key default gen_random_uuid(),
  task_type             text not null check (task_type ~ '^[A-Za-z0-9._:/-]{1,64}$'),
  task_description      text not null default '' check (length(task_description) <= 10000),
  input_data            jsonb not null default '{}'::jsonb,
  priority              int not null default 5 check (priority between 1 and 10),
  status                text not null default 'pending'
                          check (status in ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
  submitted_by          text not null,
  submitted_session     text,
  idempotency_key       text check (length(idempotency_key) between 1 and 200),
  depends_on            uuid[] not null default '{}',
  pending_deps          int not null default 0 check (pending_deps >= 0),
  deadline              timestamptz,
  max_attempts          int not null default 3 check (max_attempts between 1 and 20),
  retry_backoff_seconds int not null default 5 check (retry_backoff_seconds between 0 and 3600),
  required_agent_type   text,
  required_capabilities text[],
  exclude_submitter     boolean not null default false,
  not_before            timestamptz not null default now(),
  attempts              int not null default 0,
  claimed_by            text,
  claimed_session       text,
  claim_token           bigint,
  claimed_at            timestamptz,
  lease_seconds         int not null default 600,
  lease_expires_at      timestamptz,
  lease_lost_by         text,
  result                jsonb,
  error_message         text,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  finished_at           timestamptz,
  check ((status = 'claimed') = (claimed_by is not null and lease_expires_at is not null))
);
comment on table coord.tasks is
  'The work queue. One row per task; status pending|claimed|completed|failed|cancelled. claim_token is the fencing '
  'token of the current (or last) claim, from coord.next_fencing_token(); only the claimant holding it may complete. '
  'failed rows are the dead-letter queue: they stay, with error_message and attempts, for inspection.';

-- The claim path reads only this small index: ready-shaped pending rows, most urgent and oldest first.
create index tasks_ready_idx on coord.tasks (priority, created_at) where status = 'pending' and pending_deps = 0;
create index tasks_ready_type_idx on coord.tasks (task_type, priority, created_at) where status = 'pending' and pending_deps = 0;
create index tasks_lease_idx on coord.tasks (lease_expires_at) where status = 'claimed';
create index tasks_claimant_idx on coord.tasks (claimed_by, claimed_session) where status = 'claimed';
create index tasks_deadline_idx on coord.tasks (deadline) where status = 'pending' and deadline is not null;
create index tasks_status_type_idx on coord.tasks (status, task_type);
create unique index tasks_idempotency_idx on coord.tasks (submitted_by, idempotency_key) where idempotency_key is not null;

create table coord.task_deps (
  task_id    uuid not null references coord.tasks (id) on delete cascade,
  depends_on uuid not null references coord.tasks (id) on delete cascade,
  primary key (task_id, depends_on)
);
comment on table coord.task_deps is 'Dependency edges (task_id waits for depends_on): finds the dependents of a task when it finishes.';
create index task_deps_depends_on_idx on coord.task_deps (depends_on);

-- ---------------------------------------------------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------------------------------------------------

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
    'finished_at', t.finished_at);
end;
$$;
comment on function coord.task_json(coord.tasks) is 'Internal: the full JSON shape of one task, as inspect and claim answer it.';

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

create function coord.requeue_lost(p_id uuid, p_why text)
returns text
language plpgsql
set search_path = ''
as $$
declare
  t coord.tasks;
begin
  -- The attempt was counted at claim time. Out of attempts: dead-letter, and fail what waits on it.
  update coord.tasks
     set status = case when attempts >= max_attempts then 'failed' else 'pending' end,
         lease_lost_by = claimed_by,
         error_message = case when attempts >= max_attempts
                              then left(p_why || ' on the last attempt (' || attempts || '/' || max_attempts || ')', 2000)
                              else error_message end,
         finished_at = case when attempts >= max_attempts then now() end,
         claimed_by = null, claimed_session = null, lease_expires_at = null, updated_at = now()
   where id = p_id and status = 'claimed'
  returning * into t;
  if not found then
    return null;
  end if;
  if t.status = 'failed' then
    perform coord.emit('task.failed', t.lease_lost_by, null, t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
    perform coord.fail_dependents(t.id, 'failed: ' || t.error_message);
  else
    perform coord.emit('task.released', t.lease_lost_by, null, t.id::text,
                       jsonb_build_object('reason', p_why, 'attempts', t.attempts, 'lost_by', t.lease_lost_by));
  end if;
  return t.status;
end;
$$;
comment on function coord.requeue_lost(uuid, text) is
  'Internal: a claim ended without completion (lease expired, session ended): back to the queue with a note of who '
  'lost it, or failed when that was the last attempt. The caller holds the row lock.';

create function coord.reap_tasks()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_expired int := 0;
  v_late int := 0;
  r record;
begin
  -- SKIP LOCKED: many claimers run this at once; a row another one is handling is theirs.
  for r in select id from coord.tasks where status = 'claimed' and lease_expires_at <= now()
            order by lease_expires_at limit 100 for update skip locked loop
    perform coord.requeue_lost(r.id, 'lease expired');
    v_expired := v_expired + 1;
  end loop;
  for r in
    update coord.tasks t set status = 'failed', error_message = 'deadline passed before any worker completed it',
           updated_at = now(), finished_at = now()
     where t.id in (select id from coord.tasks where status = 'pending' and deadline <= now()
                     limit 100 for update skip locked)
    returning t.id, t.submitted_by
  loop
    perform coord.emit('task.failed', r.submitted_by, null, r.id::text, jsonb_build_object('reason', 'deadline_passed'));
    perform coord.fail_dependents(r.id, 'failed: deadline passed');
    v_late := v_late + 1;
  end loop;
  return jsonb_build_object('lease_expired', v_expired, 'deadline_failed', v_late);
end;
$$;
comment on function coord.reap_tasks() is
  'Returns tasks whose lease expired to the queue (or dead-letters them) and fails pending tasks past their deadline. '
  'Every claim runs it first, so no timer process is needed; callable on its own for monitoring.';

-- ---------------------------------------------------------------------------------------------------------------
-- Submit
-- ---------------------------------------------------------------------------------------------------------------

create function coord.submit_tasks(p_agent_id text, p_session_id text, p_tasks jsonb)
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
begin
  if n is null or n = 0 then
    return jsonb_build_object('error', jsonb_build_object('code', 'invalid_input', 'message', 'tasks must be a non-empty array'));
  end if;
  select array_agg(gen_random_uuid()) into v_ids from generate_series(1, n);

  -- Resolve dependencies: a uuid names an existing task, an integer the index of another task in this batch.
  for i in 0 .. n - 1 loop
    v_list := '{}';
    for v_dep in select * from jsonb_array_elements(coalesce(p_tasks -> i -> 'depends_on', '[]'::jsonb)) loop
      if jsonb_typeof(v_dep) = 'number' then
        if (v_dep #>> '{}')::numeric <> trunc((v_dep #>> '{}')::numeric)
           or (v_dep #>> '{}')::int < 0 or (v_dep #>> '{}')::int >= n then
          return jsonb_build_object('error', jsonb_build_object('code', 'unknown_dependency', 'task_index', i,
            'message', format('tasks[%s].depends_on: %s is not the index of a task in this batch (0..%s)', i, v_dep, n - 1)));
        end if;
        v_edges_src := v_edges_src || i;
        v_edges_dst := v_edges_dst || (v_dep #>> '{}')::int;
        v_list := v_list || v_ids[(v_dep #>> '{}')::int + 1];
      elsif jsonb_typeof(v_dep) = 'string' and (v_dep #>> '{}') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        v_list := v_list || (v_dep #>> '{}')::uuid;
        v_ext := v_ext || (v_dep #>> '{}')::uuid;
      else
        return jsonb_build_object('error', jsonb_build_object('code', 'invalid_dependency', 'task_index', i,
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
      return jsonb_build_object('error', jsonb_build_object('code', 'unknown_dependency', 'task_id', v_missing,
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
      return jsonb_build_object('error', jsonb_build_object('code', 'dependency_cycle', 'task_index', v_cycle,
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
comment on function coord.submit_tasks(text, text, jsonb) is
  'Submits a batch of tasks atomically. p_tasks: [{task_type, task_description, input_data, priority, depends_on '
  '(task ids, or indexes into this batch), deadline, max_attempts, retry_backoff_seconds, idempotency_key, '
  'required_agent_type, required_capabilities, exclude_submitter}]. Answers {tasks:[{id, status, deduplicated, '
  'pending_deps}]} or {error:{code, message}} (unknown_dependency, invalid_dependency, dependency_cycle) with nothing '
  'stored. The same idempotency_key from the same submitter returns the existing task, even under concurrent duplicates.';

-- ---------------------------------------------------------------------------------------------------------------
-- Claim, renew, complete, cancel
-- ---------------------------------------------------------------------------------------------------------------

create function coord.claim_tasks(p_agent_id text, p_session_id text, p_agent_type text, p_task_types text[],
                                  p_capabilities text[], p_limit int, p_lease_seconds int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_limit int := least(greatest(coalesce(p_limit, 1), 1), 100);
  v_out jsonb := '[]'::jsonb;
  r coord.tasks;
begin
  perform coord.reap_tasks();

  -- Two static queries, one per filter shape, so each keeps a cached plan that walks its own index in claim order
  -- (per type, or global); a single "types is null or type = any(types)" query would use neither index.
  if p_task_types is null then
    select array_agg(id) into v_ids from (
      select t.id from coord.tasks t
       where t.status = 'pending' and t.pending_deps = 0 and t.not_before <= now()
         and (t.deadline is null or t.deadline > now())
         and (t.required_agent_type is null or t.required_agent_type = p_agent_type)
         and (t.required_capabilities is null or t.required_capabilities <@ coalesce(p_capabilities, '{}'))
         and not (t.exclude_submitter and t.submitted_by = p_agent_id)
       order by t.priority, t.created_at
       limit v_limit
       for update skip locked) c;
  else
    select array_agg(id) into v_ids from (
      select t.id from coord.tasks t
       where t.status = 'pending' and t.pending_deps = 0 and t.not_before <= now()
         and (t.deadline is null or t.deadline > now())
         and t.task_type = any(p_task_types)
         and (t.required_agent_type is null or t.required_agent_type = p_agent_type)
         and (t.required_capabilities is null or t.required_capabilities <@ coalesce(p_capabilities, '{}'))
         and not (t.exclude_submitter and t.submitted_by = p_agent_id)
       order by t.priority, t.created_at
       limit v_limit
       for update skip locked) c;
  end if;
  if v_ids is null then
    return jsonb_build_object('tasks', v_out);
  end if;

  for r in
    update coord.tasks t
       set status = 'claimed', claimed_by = p_agent_id, claimed_session = p_session_id,
           claim_token = coord.next_fencing_token(), claimed_at = now(), attempts = t.attempts + 1,
           lease_seconds = coalesce(p_lease_seconds, 600),
           lease_expires_at = now() + make_interval(secs => coalesce(p_lease_seconds, 600)), updated_at = now()
     where t.id = any(v_ids)
    returning t.*
  loop
    perform coord.emit('task.claimed', p_agent_id, p_session_id, r.id::text,
                       jsonb_build_object('claim_token', r.claim_token, 'attempt', r.attempts));
    v_out := v_out || jsonb_build_array(coord.task_json(r));
  end loop;
  return jsonb_build_object('tasks', (select jsonb_agg(e order by (e->>'priority')::int, e->>'created_at') from jsonb_array_elements(v_out) e));
end;
$$;
comment on function coord.claim_tasks(text, text, text, text[], text[], int, int) is
  'Claims up to p_limit (1..100) ready tasks in one statement: most urgent first, oldest first within a priority, '
  'FOR UPDATE SKIP LOCKED so concurrent claimers never take the same row. Each claim takes a fresh fencing token and '
  'a lease of p_lease_seconds (default 600). Expired leases and missed deadlines are reaped first. Answers {tasks:[…]}.';

create function coord.renew_claims(p_agent_id text, p_task_id uuid, p_token bigint, p_lease_seconds int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  t coord.tasks;
begin
  select * into t from coord.tasks where id = p_task_id for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'not_found');
  end if;
  if t.status <> 'claimed' or t.claimed_by <> p_agent_id or (p_token is not null and p_token <> t.claim_token)
     or t.lease_expires_at <= now() then
    return jsonb_build_object('ok', false, 'code', case when t.status = 'cancelled' then 'cancelled'
      when t.status in ('completed', 'failed') then 'already_completed'
      when t.claimed_by = p_agent_id and t.lease_expires_at <= now() then 'lease_lost'
      when p_token is not null and p_token < t.claim_token then 'lease_lost'
      when t.status = 'pending' and t.lease_lost_by = p_agent_id then 'lease_lost'
      else 'not_claimant' end, 'task', coord.task_json(t));
  end if;
  update coord.tasks set lease_seconds = coalesce(p_lease_seconds, lease_seconds),
         lease_expires_at = now() + make_interval(secs => coalesce(p_lease_seconds, lease_seconds)), updated_at = now()
   where id = p_task_id returning * into t;
  perform coord.emit('task.renewed', p_agent_id, t.claimed_session, t.id::text,
                     jsonb_build_object('claim_token', t.claim_token, 'lease_expires_at', t.lease_expires_at));
  return jsonb_build_object('ok', true, 'task_id', t.id, 'claim_token', t.claim_token, 'lease_expires_at', t.lease_expires_at);
end;
$$;
comment on function coord.renew_claims(text, uuid, bigint, int) is
  'Extends the lease of one claimed task by p_lease_seconds (default: the claim''s own lease). Only the current '
  'claimant, with the current token when given, before the lease expires; otherwise {ok:false, code}.';

create function coord.complete_tasks(p_agent_id text, p_session_id text, p_items jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  it jsonb;
  v_ord bigint;
  t coord.tasks;
  v_id uuid;
  v_token bigint;
  v_code text;
  v_out jsonb := '[]'::jsonb;
  v_backoff int;
begin
  -- Items in id order: two batch completions over overlapping ids then lock rows in the same order.
  for it, v_ord in select x, ord from jsonb_array_elements(p_items) with ordinality as e(x, ord)
                   order by x ->> 'task_id', ord loop
    v_id := (it ->> 'task_id')::uuid;
    v_token := (it ->> 'claim_token')::bigint;
    v_code := null;
    select * into t from coord.tasks where id = v_id for update;
    if not found then
      v_code := 'not_found';
    elsif t.status = 'cancelled' then
      v_code := 'cancelled';
    elsif t.status in ('completed', 'failed') then
      v_code := 'already_completed';
    elsif t.status = 'pending' then
      v_code := case when t.lease_lost_by = p_agent_id or (v_token is not null and v_token <= t.claim_token)
                     then 'lease_lost' else 'not_claimant' end;
    elsif t.claimed_by <> p_agent_id then
      v_code := case when v_token is not null and v_token < t.claim_token then 'lease_lost' else 'not_claimant' end;
    elsif v_token is not null and v_token <> t.claim_token then
      v_code := case when v_token < t.claim_token then 'lease_lost' else 'not_claimant' end;
    elsif t.lease_expires_at <= now() then
      -- Expired but not yet reaped: reap it now, so the refusal and the queue agree.
      perform coord.requeue_lost(t.id, 'lease expired');
      v_code := 'lease_lost';
    end if;

    if v_code is not null then
      select * into t from coord.tasks where id = v_id;
      v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_ord - 1, 'task_id', v_id, 'ok', false, 'code', v_code,
        'status', t.status, 'claimed_by', t.claimed_by, 'lease_lost_by', t.lease_lost_by,
        'lease_expires_at', t.lease_expires_at, 'claim_token', t.claim_token));
      continue;
    end if;

    if coalesce((it ->> 'success')::boolean, true) then
      update coord.tasks set status = 'completed', result = it -> 'result', error_message = null,
             claimed_by = null, claimed_session = null, lease_expires_at = null, finished_at = now(), updated_at = now()
       where id = v_id returning * into t;
      perform coord.release_dependents(v_id);
      perform coord.emit('task.completed', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'task_type', t.task_type));
    elsif t.attempts >= t.max_attempts then
      update coord.tasks set status = 'failed', result = it -> 'result', error_message = left(it ->> 'error_message', 10000),
             claimed_by = null, claimed_session = null, lease_expires_at = null, finished_at = now(), updated_at = now()
       where id = v_id returning * into t;
      perform coord.emit('task.failed', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'task_type', t.task_type,
                                            'reason', 'max_attempts'));
      perform coord.fail_dependents(v_id, 'failed: ' || coalesce(t.error_message, 'no error message'));
    else
      -- Exponential backoff: base * 2^(attempt-1), capped at an hour.
      v_backoff := least(3600, t.retry_backoff_seconds * power(2, t.attempts - 1))::int;
      update coord.tasks set status = 'pending', error_message = left(it ->> 'error_message', 10000),
             not_before = now() + make_interval(secs => v_backoff),
             claimed_by = null, claimed_session = null, lease_expires_at = null, updated_at = now()
       where id = v_id returning * into t;
      perform coord.emit('task.retry_scheduled', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('claim_token', t.claim_token, 'attempts', t.attempts, 'backoff_seconds', v_backoff));
    end if;
    v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_ord - 1, 'task_id', v_id, 'ok', true, 'status', t.status,
      'attempts', t.attempts, 'max_attempts', t.max_attempts, 'not_before', t.not_before, 'claim_token', t.claim_token));
  end loop;
  -- Answer in the caller's order.
  return jsonb_build_object('results', (select jsonb_agg(r order by (r ->> 'index')::int) from jsonb_array_elements(v_out) r));
end;
$$;
comment on function coord.complete_tasks(text, text, jsonb) is
  'Completes claimed tasks: p_items [{task_id, claim_token, success, result, error_message}]. Only the current '
  'claimant, with the current token when given, within the lease. Success completes and unblocks dependents; failure '
  'retries with exponential backoff until max_attempts, then fails the task (dead-letter) and its dependents. Each item '
  'answers (in the caller''s order, with its index) ok or a refusal code: not_found, lease_lost, not_claimant, '
  'already_completed, cancelled.';

create function coord.cancel_task(p_agent_id text, p_is_admin boolean, p_task_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  t coord.tasks;
  v_failed int;
begin
  select * into t from coord.tasks where id = p_task_id for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'not_found');
  end if;
  if t.submitted_by <> p_agent_id and not p_is_admin then
    return jsonb_build_object('ok', false, 'code', 'not_submitter', 'submitted_by', t.submitted_by);
  end if;
  if t.status in ('completed', 'failed', 'cancelled') then
    return jsonb_build_object('ok', false, 'code', case when t.status = 'cancelled' then 'cancelled' else 'already_completed' end,
                              'status', t.status);
  end if;
  update coord.tasks set status = 'cancelled', error_message = left(coalesce(p_reason, 'cancelled by ' || p_agent_id), 2000),
         lease_lost_by = claimed_by, claimed_by = null, claimed_session = null, lease_expires_at = null,
         finished_at = now(), updated_at = now()
   where id = p_task_id returning * into t;
  perform coord.emit('task.cancelled', p_agent_id, null, t.id::text,
                     jsonb_build_object('reason', left(p_reason, 200), 'was_claimed_by', t.lease_lost_by));
  v_failed := coord.fail_dependents(t.id, 'cancelled: ' || t.error_message);
  return jsonb_build_object('ok', true, 'task_id', t.id, 'status', t.status, 'dependents_failed', v_failed);
end;
$$;
comment on function coord.cancel_task(text, boolean, uuid, text) is
  'Cancels a pending or claimed task (its submitter, or an admin). A claimant''s later completion is refused '
  '(cancelled); waiting dependents fail naming this task.';

-- ---------------------------------------------------------------------------------------------------------------
-- Inspect, list, depth
-- ---------------------------------------------------------------------------------------------------------------

create function coord.get_task(p_task_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coord.task_json(t) || jsonb_build_object(
           'dependents', (select count(*) from coord.task_deps d where d.depends_on = t.id),
           'ready', t.status = 'pending' and t.pending_deps = 0 and t.not_before <= now()
                    and (t.deadline is null or t.deadline > now()))
    from coord.tasks t where t.id = p_task_id
$$;
comment on function coord.get_task(uuid) is 'One task in full (null when unknown), with its dependent count and whether it is ready now.';

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

-- ---------------------------------------------------------------------------------------------------------------
-- Leases follow the session: heartbeat renews, session end releases
-- ---------------------------------------------------------------------------------------------------------------

create function coord.tasks_on_session_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_n int;
  r record;
begin
  if new.ended_at is not null and old.ended_at is null then
    for r in select id from coord.tasks where status = 'claimed' and claimed_by = new.agent_id
                and claimed_session = new.session_id for update loop
      perform coord.requeue_lost(r.id, 'session ended');
    end loop;
  elsif new.last_heartbeat_at is distinct from old.last_heartbeat_at and new.ended_at is null then
    -- Only live leases: an expired one is already lost, however late the heartbeat.
    update coord.tasks set lease_expires_at = now() + make_interval(secs => lease_seconds), updated_at = now()
     where status = 'claimed' and claimed_by = new.agent_id and claimed_session = new.session_id
       and lease_expires_at > now();
    get diagnostics v_n = row_count;
    if v_n > 0 then
      perform coord.emit('task.renewed', new.agent_id, new.session_id, new.session_id, jsonb_build_object('claims', v_n));
    end if;
    -- Every live bridge heartbeats every 30 s: that is the queue's clock when nobody is claiming. Leases of dead
    -- agents come back to the queue (and their dependents stop waiting on them) without a claim to trigger it.
    perform coord.reap_tasks();
  end if;
  return null;
end;
$$;
comment on function coord.tasks_on_session_change() is
  'Trigger on coord.sessions: a heartbeat renews the session''s live task leases; ending the session returns its claims to the queue.';

create trigger tasks_session_leases after update of last_heartbeat_at, ended_at on coord.sessions
  for each row execute function coord.tasks_on_session_change();

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges and row-level security
-- ---------------------------------------------------------------------------------------------------------------

alter table coord.tasks enable row level security;
alter table coord.task_deps enable row level security;

-- Ready-task summaries are what any agent may read directly with the anon key; inputs and results are not.
grant select (id, task_type, task_description, priority, status, submitted_by, created_at, deadline) on coord.tasks to anon, authenticated;
create policy tasks_pending_read on coord.tasks for select to anon, authenticated using (status = 'pending');

grant all on coord.tasks, coord.task_deps to service_role;
grant execute on all functions in schema coord to service_role;
revoke execute on function coord.task_json(coord.tasks), coord.fail_dependents(uuid, text), coord.release_dependents(uuid),
  coord.requeue_lost(uuid, text) from public;

-- Nothing in coord is executable by PUBLIC or the API roles (see 0001): only through the app's connection.
revoke execute on all functions in schema coord from public, anon, authenticated;
