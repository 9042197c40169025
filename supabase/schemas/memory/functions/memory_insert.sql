create function coord.memory_insert(p_agent_id text, p_session_id text, p jsonb)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
  v_summary text := coord.redact(p->>'summary');
  v_vec text := coord.memory_vector_literal(p->'embedding');
begin
  insert into coord.memories (layer, repo, visibility, agent_id, session_id, event_type, name, summary, details, outcome,
                              lessons, tags, steps, preconditions, file_paths, commit_sha, task_id, norm_summary)
  values (coalesce(p->>'layer', 'episodic'), coalesce(p->>'repo', ''), coalesce(p->>'visibility', 'shared'),
          p_agent_id, p_session_id, coalesce(p->>'event_type', 'note'), p->>'name', v_summary,
          coord.redact(p->>'details'), p->>'outcome', coord.redact(p->>'lessons'),
          coalesce(array(select lower(coord.redact(t)) from jsonb_array_elements_text(p->'tags') t), '{}'),
          coalesce(array(select coord.redact(t) from jsonb_array_elements_text(p->'steps') t), '{}'),
          coord.redact(p->>'preconditions'),
          coalesce(array(select coord.redact(f) from jsonb_array_elements_text(p->'file_paths') f), '{}'),
          p->>'commit_sha', coord.redact(p->>'task_id'), coord.memory_normalize(v_summary))
  returning id into v_id;
  if v_vec is not null and coord.memory_has_vector() then
    execute 'update coord.memories set embedding = $1::extensions.vector where id = $2' using v_vec, v_id;
  end if;
  return v_id;
end;
$$;
comment on function coord.memory_insert(text, text, jsonb) is
  'Internal: inserts one redacted memory row (episodic or procedural) from a validated jsonb document.';
