create function coord.task_handoff(t coord.tasks)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Only for a task that came back (rare on the claim path): the previous claim as requeue_lost or a failed attempt
  -- left it, how long it was held, the last notes, and the previous session's working-memory items tied to the task
  -- (remember with layer working and task_id).
  return t.handoff || jsonb_build_object(
    'held_seconds', greatest(0, floor(extract(epoch from ((t.handoff ->> 'released_at')::timestamptz
                                                          - (t.handoff ->> 'claimed_at')::timestamptz))))::int,
    'notes', (select coalesce(jsonb_agg(e order by ord), '[]'::jsonb)
                from (select e, ord from jsonb_array_elements(t.notes) with ordinality as x(e, ord)
                       order by ord desc limit 5) last_notes),
    'working_memory', (select coalesce(jsonb_agg(jsonb_build_object('kind', w.kind, 'content', w.content,
                                                                    'priority', w.priority, 'at', w.updated_at)
                                                 order by w.pinned desc, w.priority desc, w.id), '[]'::jsonb)
                         from (select * from coord.working_items w
                                where w.agent_id = t.handoff ->> 'agent_id' and w.session_id = t.handoff ->> 'session_id'
                                  and w.task_id = t.id::text
                                order by w.pinned desc, w.priority desc, w.id limit 10) w));
end;
$$;
comment on function coord.task_handoff(coord.tasks) is
  'Internal: what the next claimant of a task that came back is told: who held it (agent, session, claim), since '
  'when and for how long, why it came back, the last 5 progress notes and up to 10 working-memory items the previous '
  'session tied to the task.';
