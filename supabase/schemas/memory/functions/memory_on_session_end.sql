create function coord.memory_on_session_end()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform coord.working_fold(new.agent_id, new.session_id,
                             case when new.end_cause = 'expired' then 'expired' else 'ended' end);
  return null;
end;
$$;
comment on function coord.memory_on_session_end() is
  'Trigger: when a session ends (cleanly or declared dead), its working memory is folded into episodic memory.';

create trigger memory_fold after update of ended_at on coord.sessions
  for each row when (old.ended_at is null and new.ended_at is not null)
  execute function coord.memory_on_session_end();
