create function coord.take_session_notices(p_agent_id text, p_session_id text, p_limit int default 20)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_taken jsonb;
  v_left int;
begin
  with taken as (
    delete from coord.session_notices
     where id in (select id from coord.session_notices where agent_id = p_agent_id and session_id = p_session_id
                   order by id limit least(greatest(coalesce(p_limit, 20), 1), 100))
    returning *
  )
  select jsonb_agg(jsonb_build_object('kind', kind, 'subject', subject, 'repo', repo, 'token', token, 'cause', cause,
                                      'by', by_agent, 'lost_at', lost_at, 'detail', detail) order by id)
    into v_taken from taken;
  select count(*) into v_left from coord.session_notices where agent_id = p_agent_id and session_id = p_session_id;
  return jsonb_build_object('notices', coalesce(v_taken, '[]'::jsonb), 'more', v_left, 'now', now());
end;
$$;
comment on function coord.take_session_notices(text, text, int) is
  'Hands out (and deletes) the oldest notices of a session: what was taken from it and why. Answers '
  '{notices:[{kind, subject, repo, token, cause, by, lost_at, detail}], more, now}.';
