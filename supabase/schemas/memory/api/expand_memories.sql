create function coord.expand_memories(p_agent_id text, p_session_id text, p_ids bigint[], p_confirm boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_found jsonb;
  v_confirmed bigint[];
begin
  -- Confirming: the caller checked that these memories still hold after the change that marked them stale.
  if p_confirm then
    with cleared as (
      delete from coord.memory_stale_marks s
       using coord.memories m
       where s.memory_id = m.id and m.id = any(p_ids) and (m.visibility = 'shared' or m.agent_id = p_agent_id)
      returning s.memory_id
    )
    select array_agg(memory_id order by memory_id) into v_confirmed from cleared;
    if v_confirmed is not null then
      perform coord.emit('memory.confirmed', p_agent_id, p_session_id, array_to_string(v_confirmed, ','), '{}'::jsonb);
    end if;
  end if;
  -- Expanding a memory is what "using" it means: it feeds the use count that recall's ranking reads.
  with used as (
    update coord.memories m set use_count = use_count + 1, last_used_at = now()
     where m.id = any(p_ids) and (m.visibility = 'shared' or m.agent_id = p_agent_id)
    returning m.*, null::timestamptz as archived_at
  ), archived as (
    select a.* from coord.memories_archive a
     where a.id = any(p_ids) and (a.visibility = 'shared' or a.agent_id = p_agent_id)
  ), rows as (
    select id, layer, repo, visibility, agent_id, event_type, name, summary, details, outcome, lessons, tags, steps,
           preconditions, file_paths, commit_sha, task_id, occurrences, use_count, success_count, failure_count,
           created_at, last_seen_at, archived_at from used
    union all
    select id, layer, repo, visibility, agent_id, event_type, name, summary, details, outcome, lessons, tags, steps,
           preconditions, file_paths, commit_sha, task_id, occurrences, use_count, success_count, failure_count,
           created_at, last_seen_at, archived_at from archived
  )
  select coalesce(jsonb_agg(jsonb_strip_nulls(to_jsonb(r) || jsonb_build_object('stale',
           (select jsonb_build_object('since', s.commit_sha, 'files', s.files, 'changes', s.changes, 'marked_at', s.marked_at)
              from coord.memory_stale_marks s where s.memory_id = r.id))) order by r.id), '[]'::jsonb)
    into v_found from rows r;

  if jsonb_array_length(v_found) = 0 then
    return coord.refusal('unknown_memory', jsonb_build_object('ids', to_jsonb(p_ids)));
  end if;
  perform coord.emit('memory.used', p_agent_id, p_session_id,
                     (select string_agg(e->>'id', ',') from jsonb_array_elements(v_found) e), '{}'::jsonb);
  return jsonb_build_object(
    'memories', v_found,
    'confirmed', coalesce(to_jsonb(v_confirmed), '[]'::jsonb),
    'missing', coalesce((select jsonb_agg(i) from unnest(p_ids) i
                          where not exists (select 1 from jsonb_array_elements(v_found) e where (e->>'id')::bigint = i)),
                        '[]'::jsonb));
end;
$$;
comment on function coord.expand_memories(text, text, bigint[], boolean) is
  'Expands memories by id (hot or archived) the caller may see, counting a use of each, with their stale mark if any; '
  'p_confirm clears the marks (the caller checked they still hold). Unknown or invisible ids are listed as missing, '
  'and when none is found it refuses unknown_memory.';
