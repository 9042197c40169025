create function coord.remember(p_agent_id text, p_session_id text, p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_layer text := coalesce(p->>'layer', 'episodic');
  v_repo text := coalesce(p->>'repo', '');
  v_event text := coalesce(p->>'event_type', case when v_layer = 'procedural' then 'skill' else 'note' end);
  v_summary text := coord.redact(p->>'summary');
  v_norm text := coord.memory_normalize(v_summary);
  v_redacted boolean;
  v_id bigint;
  v_occ int := 1;
  v_status text;
begin
  v_redacted := v_summary is distinct from p->>'summary'
             or coord.redact(p->>'details') is distinct from p->>'details'
             or coord.redact(p->>'lessons') is distinct from p->>'lessons'
             or coord.redact((p->'steps')::text) is distinct from (p->'steps')::text
             or coord.redact((p->'tags')::text) is distinct from (p->'tags')::text;

  if v_layer = 'procedural' then
    -- A skill is one row per repository and name: writing it again revises it and keeps its outcome history.
    insert into coord.memories as m (layer, repo, visibility, agent_id, session_id, event_type, name, summary, details,
                                     tags, steps, preconditions, norm_summary)
    values ('procedural', v_repo, coalesce(p->>'visibility', 'shared'), p_agent_id, p_session_id, v_event, p->>'name',
            v_summary, coord.redact(p->>'details'),
            coalesce(array(select lower(coord.redact(t)) from jsonb_array_elements_text(p->'tags') t), '{}'),
            coalesce(array(select coord.redact(t) from jsonb_array_elements_text(p->'steps') t), '{}'),
            coord.redact(p->>'preconditions'), v_norm)
    on conflict (repo, name) where layer = 'procedural' do update
      set summary = excluded.summary, details = coalesce(excluded.details, m.details),
          tags = excluded.tags, steps = case when excluded.steps = '{}' then m.steps else excluded.steps end,
          preconditions = coalesce(excluded.preconditions, m.preconditions), norm_summary = excluded.norm_summary,
          occurrences = m.occurrences + 1, last_seen_at = now()
      where m.visibility = 'shared' or m.agent_id = p_agent_id
    returning id, occurrences into v_id, v_occ;
    if v_id is null then
      -- Another agent's private skill holds the name: neither reveal nor overwrite it.
      return coord.refusal('skill_name_taken', jsonb_build_object('name', p->>'name', 'repo', v_repo));
    end if;
    v_status := case when v_occ > 1 then 'updated' else 'stored' end;
    perform coord.emit('memory.skill_saved', p_agent_id, p_session_id, v_id::text,
                       jsonb_build_object('name', p->>'name', 'status', v_status));
  else
    -- Same agent, event type and normalised summary within an hour: one row that counts occurrences. The advisory
    -- lock makes the check-then-insert atomic under concurrent writers.
    perform pg_advisory_xact_lock(hashtextextended(p_agent_id || chr(31) || v_event || chr(31) || v_repo || chr(31) || v_norm, 0));
    update coord.memories m
       set occurrences = m.occurrences + 1, last_seen_at = now(),
           outcome = coalesce(p->>'outcome', m.outcome),
           lessons = coalesce(coord.redact(p->>'lessons'), m.lessons),
           tags = array(select distinct t from unnest(m.tags || coalesce(array(select lower(coord.redact(x)) from jsonb_array_elements_text(p->'tags') x), '{}')) t)
     where m.id = (select id from coord.memories
                    where layer = 'episodic' and agent_id = p_agent_id and event_type = v_event and repo = v_repo
                      and norm_summary = v_norm and last_seen_at > now() - interval '1 hour'
                    order by last_seen_at desc limit 1)
    returning m.id, m.occurrences into v_id, v_occ;
    if v_id is not null then
      v_status := 'deduplicated';
      perform coord.emit('memory.deduplicated', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('occurrences', v_occ, 'event_type', v_event));
    else
      v_id := coord.memory_insert(p_agent_id, p_session_id, p || jsonb_build_object('layer', 'episodic', 'event_type', v_event));
      v_status := 'stored';
      perform coord.emit('memory.remembered', p_agent_id, p_session_id, v_id::text,
                         jsonb_build_object('layer', 'episodic', 'event_type', v_event, 'repo', v_repo));
    end if;
  end if;

  return jsonb_build_object('id', v_id, 'layer', v_layer, 'status', v_status, 'occurrences', coalesce(v_occ, 1),
                            'redacted', v_redacted);
end;
$$;
comment on function coord.remember(text, text, jsonb) is
  'Stores an episodic memory (deduplicated per agent + event type + normalised summary within one hour: the answer '
  'says deduplicated and the occurrence count) or saves a procedural skill (one per repository and name). Redacts '
  'secrets first. Fields: layer, repo, visibility, event_type, name, summary, details, outcome, lessons, tags, steps, '
  'preconditions, file_paths, commit_sha, task_id, embedding.';
