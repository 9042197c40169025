create function coord.working_fold(p_agent_id text, p_session_id text, p_cause text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  ws coord.working_sessions;
  v_lines text[];
  v_heads text[];
  v_tasks text[];
  v_id bigint;
begin
  select * into ws from coord.working_sessions where agent_id = p_agent_id and session_id = p_session_id for update;
  if not found then
    return null;
  end if;
  -- Items added or changed since the last fold (a session brought back by a late heartbeat folds again at its next
  -- end), most important first: the same items always fold into the same memory.
  select array_agg(w.kind || coalesce(' [task ' || w.task_id || ']', '') || ': ' || w.content
                   order by w.pinned desc, w.priority desc, w.id),
         array_agg(w.kind || ': ' || coord.summary_line(w.content) order by w.pinned desc, w.priority desc, w.id),
         array_agg(distinct w.task_id) filter (where w.task_id is not null)
    into v_lines, v_heads, v_tasks
    from coord.working_items w
   where w.agent_id = p_agent_id and w.session_id = p_session_id
     and (ws.folded_at is null or w.updated_at > ws.folded_at);
  update coord.working_sessions set folded_at = now() where agent_id = p_agent_id and session_id = p_session_id;
  if v_lines is null then
    return null;
  end if;
  v_id := coord.memory_insert(p_agent_id, p_session_id, jsonb_build_object(
    'layer', 'episodic', 'repo', ws.repo, 'visibility', 'private', 'event_type', 'session_summary',
    'summary', left('Session ' || p_session_id || ' (' || p_cause || '), ' || cardinality(v_lines) || ' working items: '
                    || array_to_string(v_heads, '; '), 500),
    'details', left(array_to_string(v_lines, E'\n'), 8000),
    'tags', jsonb_build_array('working', 'session'),
    -- One task: the memory names it, so recall by task finds it.
    'task_id', case when cardinality(v_tasks) = 1 then v_tasks[1] end));
  perform coord.emit('memory.session_folded', p_agent_id, p_session_id, v_id::text,
                     jsonb_build_object('items', cardinality(v_lines), 'cause', p_cause));
  return v_id;
end;
$$;
comment on function coord.working_fold(text, text, text) is
  'Internal: folds a session''s working memory (items new since the last fold) into one private episodic memory '
  '(event type session_summary): a deterministic summary (the items'' first lines, most important first) and the '
  'full items as details, so the agent''s next session can recall it. Answers the memory id, or null with nothing to fold.';
