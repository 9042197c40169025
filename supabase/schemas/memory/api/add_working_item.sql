create function coord.add_working_item(p_agent_id text, p_session_id text, p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_budget   int;
  v_repo     text;
  v_content  text := coord.redact(p->>'content');
  v_kind     text := coalesce(p->>'kind', 'note');
  v_prio     int := coalesce((p->>'priority')::int, 3);
  v_pinned   boolean := coalesce((p->>'pinned')::boolean, false);
  v_task     text := coord.redact(p->>'task_id');
  v_tokens   int := coord.estimate_tokens(coord.redact(p->>'content'));
  v_dup      coord.working_items;
  v_victim   coord.working_items;
  v_id       bigint;
  v_status   text;
  v_used     int;
  v_mem      bigint;
  v_evicted  jsonb := '[]'::jsonb;
  v_cut      jsonb := '[]'::jsonb;
  v_pinned_total int;
begin
  -- The session row's lock serialises concurrent adds of one session, so compression sees a stable set.
  insert into coord.working_sessions as s (agent_id, session_id, repo, budget_tokens)
  values (p_agent_id, p_session_id, coalesce(p->>'repo', ''),
          coalesce((p->>'budget_tokens')::int, coord.memory_setting('working_budget_tokens', 4000)::int))
  on conflict (agent_id, session_id) do update
    set budget_tokens = coalesce((p->>'budget_tokens')::int, s.budget_tokens),
        repo = coalesce(p->>'repo', s.repo), updated_at = now()
  returning budget_tokens, repo into v_budget, v_repo;

  -- Near-duplicates (same kind, same text or trigram similarity >= 0.8) merge into the existing item.
  select * into v_dup from coord.working_items w
   where w.agent_id = p_agent_id and w.session_id = p_session_id and w.kind = v_kind
     and (coord.memory_normalize(w.content) = coord.memory_normalize(v_content)
          or extensions.similarity(w.content, v_content) >= 0.8)
   order by extensions.similarity(w.content, v_content) desc, w.id
   limit 1;

  select coalesce(sum(tokens), 0) into v_pinned_total from coord.working_items
   where agent_id = p_agent_id and session_id = p_session_id and pinned and id is distinct from v_dup.id;
  if (v_pinned or coalesce(v_dup.pinned, false))
     and v_pinned_total + greatest(v_tokens, coalesce(v_dup.tokens, 0)) > v_budget then
    return coord.refusal('pinned_over_budget', jsonb_build_object('budget_tokens', v_budget,
                              'pinned_tokens', v_pinned_total, 'item_tokens', v_tokens));
  end if;

  if v_dup.id is not null then
    update coord.working_items
       set content = case when length(v_content) >= length(content) then v_content else content end,
           tokens = greatest(tokens, v_tokens), cut = cut and length(v_content) < length(content),
           priority = greatest(priority, v_prio), pinned = pinned or v_pinned, task_id = coalesce(v_task, task_id),
           use_count = use_count + 1, updated_at = now()
     where id = v_dup.id;
    v_id := v_dup.id;
    v_status := 'merged';
  else
    insert into coord.working_items (agent_id, session_id, kind, content, priority, pinned, tokens, task_id)
    values (p_agent_id, p_session_id, v_kind, v_content, v_prio, v_pinned, v_tokens, v_task)
    returning id into v_id;
    v_status := 'added';
  end if;

  -- Compress until within budget: cut the longest unpinned item to its summary line (its full text goes to
  -- episodic memory), then evict the lowest-value unpinned item (priority, uses, age) into episodic memory.
  loop
    select coalesce(sum(tokens), 0) into v_used from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id;
    exit when v_used <= v_budget;

    select * into v_victim from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id and not pinned and not cut and tokens > 40
     order by tokens desc, id
     limit 1;
    if found then
      v_mem := coord.memory_insert(p_agent_id, p_session_id, jsonb_build_object(
        'layer', 'episodic', 'repo', v_repo, 'visibility', 'private', 'event_type', 'working_cut',
        'summary', left(coord.summary_line(v_victim.content), 500), 'details', v_victim.content,
        'tags', jsonb_build_array('working', v_victim.kind)));
      update coord.working_items
         set content = left(coord.summary_line(v_victim.content), 500), cut = true,
             tokens = coord.estimate_tokens(left(coord.summary_line(v_victim.content), 500))
       where id = v_victim.id;
      v_cut := v_cut || jsonb_build_object('id', v_victim.id, 'memory_id', v_mem);
      continue;
    end if;

    select * into v_victim from coord.working_items
     where agent_id = p_agent_id and session_id = p_session_id and not pinned
     order by priority, use_count, updated_at, id
     limit 1;
    exit when not found;  -- unreachable: pinned items alone fit (checked above)
    v_mem := coord.memory_insert(p_agent_id, p_session_id, jsonb_build_object(
      'layer', 'episodic', 'repo', v_repo, 'visibility', 'private', 'event_type', 'working_evicted',
      'summary', left(coord.summary_line(v_victim.content), 500), 'details', v_victim.content,
      'tags', jsonb_build_array('working', v_victim.kind)));
    delete from coord.working_items where id = v_victim.id;
    v_evicted := v_evicted || jsonb_build_object('id', v_victim.id, 'memory_id', v_mem);
  end loop;

  perform coord.emit('memory.working_' || v_status, p_agent_id, p_session_id, v_id::text,
                     jsonb_build_object('kind', v_kind, 'tokens_used', v_used, 'evicted', jsonb_array_length(v_evicted),
                                        'cut', jsonb_array_length(v_cut)));
  return jsonb_build_object('id', v_id, 'layer', 'working', 'status', v_status,
                            'redacted', v_content is distinct from p->>'content',
                            'tokens_used', v_used, 'budget_tokens', v_budget, 'evicted', v_evicted, 'cut', v_cut);
end;
$$;
comment on function coord.add_working_item(text, text, jsonb) is
  'Adds an item (kind, content, priority 1-5, pinned) to a session''s working memory and compresses it '
  'deterministically to its token budget: near-duplicates merge, long unpinned items are cut to their summary line, '
  'the lowest-value unpinned items move to episodic memory (private, event types working_cut/working_evicted). '
  'Pinned items stay; an add whose pinned total would exceed the budget is refused (pinned_over_budget). task_id '
  '(optional) ties the item to a work-queue task, for the handoff if the task comes back.';
