create function coord.claim_tasks(p_agent_id text, p_session_id text, p_agent_type text, p_task_types text[],
                                  p_capabilities text[], p_limit int, p_lease_seconds int,
                                  p_bound boolean default true, p_idempotency_key text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
-- A hot path of small plans: JIT compiling one (past jit_above_cost on a large table) costs more than it saves.
set jit = off
as $$
declare
  v_ids uuid[];
  v_limit int := least(greatest(coalesce(p_limit, 1), 1), 100);
  v_out jsonb := '[]'::jsonb;
  v_lease_end timestamptz;
  v_now timestamptz;
  r coord.tasks;
begin
  -- A claim sent again with its idempotency key (a retry after an unknown outcome): the tasks it took, still held.
  if p_idempotency_key is not null then
    select coalesce(jsonb_agg(coord.task_json(t) order by t.priority, t.created_at), '[]'::jsonb) into v_out
      from coord.tasks t
     where t.claimed_by = p_agent_id and t.claim_key = p_idempotency_key and t.status = 'claimed';
    if jsonb_array_length(v_out) > 0 then
      return jsonb_build_object('tasks', v_out, 'replayed', true);
    end if;
  end if;
  -- Claims are the queue's clock: sessions that stopped heartbeating are declared dead (their claims come back with
  -- the cause) and expired leases and missed deadlines reaped, before looking for work. Neither ever waits.
  perform coord.expire_sessions(20);
  perform coord.reap_tasks();
  -- This call's own clock, read after the reaping (which judges sessions dead by the clock): a claim is never recorded
  -- as made before the death that freed its task. now() would be the transaction's start, and in a group commit
  -- (coord.run_work_calls) that is the start of the whole group.
  v_now := clock_timestamp();
  -- A heartbeating session's lease lives no longer than the session's liveness; heartbeats renew both.
  v_lease_end := coord.session_lease_end(p_agent_id, p_session_id, v_now, coalesce(p_lease_seconds, 600));

  -- Two static queries, one per filter shape, so each keeps a cached plan that walks its own index in claim order
  -- (per type, or global); a single "types is null or type = any(types)" query would use neither index.
  if p_task_types is null then
    select array_agg(id) into v_ids from (
      select t.id from coord.tasks t
       where t.status = 'pending' and t.pending_deps = 0 and t.not_before <= v_now
         and (t.deadline is null or t.deadline > v_now)
         and (t.required_agent_type is null or t.required_agent_type = p_agent_type)
         and (t.required_capabilities is null or t.required_capabilities <@ coalesce(p_capabilities, '{}'))
         and not (t.exclude_submitter and (t.submitted_by = p_agent_id or not p_bound))
       order by t.priority, t.created_at
       limit v_limit
       for update skip locked) c;
  else
    -- Per type, the type's own index in claim order, then the most urgent of those. The row comparison is an index
    -- condition only tasks_ready_type_idx can serve: without it the planner walks tasks_ready_idx (its order matches
    -- too, the type being fixed) and filters, reading every ready task of other types first — 12 ms a claim behind
    -- 100,000 of them. With several types, up to p_limit rows of each are locked until commit; the rest stay pending.
    select array_agg(id) into v_ids from (
      select c.id from unnest(array(select distinct unnest(p_task_types))) as ty(name)
      cross join lateral (
        select t.id, t.priority, t.created_at from coord.tasks t
         where t.task_type = ty.name
           and (t.task_type, t.priority, t.created_at) >= (ty.name, 0, '-infinity'::timestamptz)
           and t.status = 'pending' and t.pending_deps = 0 and t.not_before <= v_now
           and (t.deadline is null or t.deadline > v_now)
           and (t.required_agent_type is null or t.required_agent_type = p_agent_type)
           and (t.required_capabilities is null or t.required_capabilities <@ coalesce(p_capabilities, '{}'))
           and not (t.exclude_submitter and (t.submitted_by = p_agent_id or not p_bound))
         order by t.task_type, t.priority, t.created_at
         limit v_limit
         for update skip locked) c
      order by c.priority, c.created_at
      limit v_limit) s;
  end if;
  if v_ids is null then
    return jsonb_build_object('tasks', v_out);
  end if;

  for r in
    update coord.tasks t
       set status = 'claimed', claimed_by = p_agent_id, claimed_session = p_session_id,
           claim_token = coord.next_fencing_token(), claimed_at = v_now, attempts = t.attempts + 1,
           claim_key = p_idempotency_key,
           lease_seconds = coalesce(p_lease_seconds, 600),
           lease_expires_at = v_lease_end, updated_at = v_now
     where t.id = any(v_ids)
    returning t.*
  loop
    perform coord.emit('task.claimed', p_agent_id, p_session_id, r.id::text,
                       jsonb_build_object('claim_token', r.claim_token, 'attempt', r.attempts));
    -- A task that came back (its holder died, gave up or lost the lease) carries the handoff: who held it, why it
    -- returned, their notes and their session's working memory about it.
    v_out := v_out || jsonb_build_array(case when r.handoff is null then coord.task_json(r)
                                             else coord.task_json(r) || jsonb_build_object('handoff', coord.task_handoff(r)) end);
  end loop;
  return jsonb_build_object('tasks', (select jsonb_agg(e order by (e->>'priority')::int, e->>'created_at') from jsonb_array_elements(v_out) e));
end;
$$;
comment on function coord.claim_tasks(text, text, text, text[], text[], int, int, boolean, text) is
  'Claims up to p_limit (1..100) ready tasks in one statement: most urgent first, oldest first within a priority, '
  'FOR UPDATE SKIP LOCKED so concurrent claimers never take the same row. Each claim takes a fresh fencing token and '
  'a lease of p_lease_seconds (default 600), capped at the claiming session''s live_until when it heartbeats. Dead '
  'sessions, expired leases and missed deadlines are reaped first. A task that came back carries a handoff (previous '
  'holder, why, notes, their working memory about it). Answers {tasks:[…]}. A caller whose id is not bound to its key '
  '(p_bound false) never gets exclude_submitter tasks: it could be anyone. A claim with p_idempotency_key that already '
  'took tasks (still claimed by the caller) answers them again (replayed).';
