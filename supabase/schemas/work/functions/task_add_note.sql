create function coord.task_add_note(p_notes jsonb, p_agent_id text, p_note text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  -- The last 10 notes, oldest first; redacted like every memory, since the next claimant reads them.
  return (select coalesce(jsonb_agg(e order by ord), '[]'::jsonb)
            from (select e, ord from jsonb_array_elements(
                    coalesce(p_notes, '[]'::jsonb)
                    || jsonb_build_array(jsonb_build_object('at', now(), 'agent_id', p_agent_id,
                                                            'note', left(coord.redact(p_note), 2000))))
                    with ordinality as x(e, ord)
                  order by ord desc limit 10) kept);
end;
$$;
comment on function coord.task_add_note(jsonb, text, text) is
  'Internal: appends a progress note {at, agent_id, note} (redacted, at most 2000 characters) to a task''s notes, '
  'keeping the last 10.';
